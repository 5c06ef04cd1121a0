package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	fnote "github.com/transparency-dev/formats/note"

	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/witness"
)

const witnessUsage = `usage:
  truce witness init   --data WDIR --name NAME --log-key VKEY...   create a witness following logs; prints its key
  truce witness add-log --data WDIR --log-key VKEY...              follow more logs
  truce witness serve  --data WDIR [--addr HOST:PORT]              serve POST /add-checkpoint (C2SP tlog-witness)
  truce witness attach --data DIR --url URL --vkey VKEY [--quorum K] make an instance submit checkpoints to a witness
  truce witness detach --data DIR --name NAME [--quorum K]         stop using a witness
  truce witness list   --data DIR                                  show an instance's witnesses and quorum`

func cmdWitness(e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, witnessUsage)
		return errUsage
	}
	switch args[0] {
	case "init":
		return witnessInit(e, args[1:])
	case "serve":
		return witnessServe(e, args[1:])
	case "add-log":
		return witnessAddLog(e, args[1:])
	case "attach", "detach", "list":
		return witnessPolicy(e, args[0], args[1:])
	}
	fmt.Fprintln(e.stderr, witnessUsage)
	return errUsage
}

func witnessInit(e *env, args []string) error {
	fs := e.flags("witness init")
	data := fs.String("data", "", "the witness's data directory (created)")
	name := fs.String("name", "", "the witness's name, as in its signatures (e.g. witness.example.org)")
	var logs listFlag
	fs.Var(&logs, "log-key", "verifier key of a log to follow (repeatable; `truce` logs serve theirs at /log/vkey)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "name", "log-key"); err != nil {
		return err
	}
	if _, err := os.Stat(*data); err == nil {
		if entries, _ := os.ReadDir(*data); len(entries) > 0 {
			return fmt.Errorf("%s is not empty", *data)
		}
	}
	vkey, err := witness.Init(*data, *name)
	if err != nil {
		return err
	}
	for _, l := range logs {
		if err := witness.AddLog(e.ctx, *data, l); err != nil {
			return err
		}
	}
	fmt.Fprintln(e.stdout, vkey)
	return nil
}

func witnessAddLog(e *env, args []string) error {
	fs := e.flags("witness add-log")
	data := fs.String("data", "", "the witness's data directory")
	var logs listFlag
	fs.Var(&logs, "log-key", "verifier key of a log to follow (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "log-key"); err != nil {
		return err
	}
	for _, l := range logs {
		if err := witness.AddLog(e.ctx, *data, l); err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
		fmt.Fprintf(e.stdout, "following %s\n", l)
	}
	return nil
}

func witnessServe(e *env, args []string) error {
	fs := e.flags("witness serve")
	data := fs.String("data", "", "the witness's data directory")
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data"); err != nil {
		return err
	}
	w, err := witness.Open(*data, e.log)
	if err != nil {
		return err
	}
	defer w.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	return run(e, ln, w, func(url string) {
		fmt.Fprintf(e.stdout, "witness %s serving at %s/add-checkpoint\n  key: %s\n", w.Name(), url, w.VerifierKey())
	})
}

func witnessPolicy(e *env, verb string, args []string) error {
	fs := e.flags("witness " + verb)
	fs.String("data", "", "the instance's data directory")
	url := fs.String("url", "", "the witness's base URL (attach)")
	vkey := fs.String("vkey", "", "the witness's cosignature verifier key (attach)")
	name := fs.String("name", "", "the witness's name (detach)")
	quorum := fs.Int("quorum", -1, "how many witnesses must cosign a checkpoint (default: all)")
	in, err := openStore(e, fs, args)
	if err != nil {
		return err
	}
	defer in.Close()
	p, err := in.WitnessPolicy(e.ctx)
	if err != nil {
		return err
	}
	switch verb {
	case "attach":
		if err := required(fs, "url", "vkey"); err != nil {
			return err
		}
		v, err := fnote.NewVerifierForCosignatureV1(*vkey)
		if err != nil {
			return fmt.Errorf("--vkey: %w", err)
		}
		p.Peers = slices.DeleteFunc(p.Peers, func(w witness.Peer) bool { return w.Name == v.Name() })
		p.Peers = append(p.Peers, witness.Peer{Name: v.Name(), VKey: *vkey, URL: *url})
	case "detach":
		if err := required(fs, "name"); err != nil {
			return err
		}
		n := len(p.Peers)
		if p.Peers = slices.DeleteFunc(p.Peers, func(w witness.Peer) bool { return w.Name == *name }); len(p.Peers) == n {
			return fmt.Errorf("no witness named %q", *name)
		}
	}
	if verb != "list" {
		p.Quorum = min(p.Quorum, len(p.Peers))
		if *quorum >= 0 {
			p.Quorum = *quorum
		} else if verb == "attach" {
			p.Quorum = len(p.Peers)
		}
		if err := in.SetWitnessPolicy(e.ctx, p); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%d of %d witnesses must cosign each checkpoint\n", p.Quorum, len(p.Peers))
	for _, w := range p.Peers {
		fmt.Fprintf(e.stdout, "  %s  %s\n    %s\n", w.Name, w.URL, w.VKey)
	}
	if verb != "list" {
		fmt.Fprintln(e.stdout, "(a running server takes this up when it next starts)")
	}
	return nil
}

// run serves h on ln until e.ctx ends, calling ready with the base URL.
func run(e *env, ln net.Listener, h http.Handler, ready func(url string)) error {
	srv := api.NewHTTPServer(ln.Addr().String(), h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ready("http://" + ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-e.ctx.Done():
	}
	e.log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
