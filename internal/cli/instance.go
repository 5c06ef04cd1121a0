package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/agreement"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
)

func cmdInit(e *env, args []string) error {
	fs := e.flags("init")
	data := fs.String("data", "", "data directory to create")
	origin := fs.String("origin", "", "the log's origin, e.g. truce.example.org/log")
	agreementFile := fs.String("agreement", "", "the agreement file (YAML)")
	membersFile := fs.String("members", "", "members to register (YAML list of id, name, role, party, keys)")
	name := fs.String("name", "", "the instance's name (default: the agreement's title)")
	exercise := fs.Bool("exercise", false, "mark everything in this instance as exercise data")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "origin", "agreement"); err != nil {
		return err
	}
	raw, err := os.ReadFile(*agreementFile)
	if err != nil {
		return err
	}
	ag, err := agreement.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", *agreementFile, err)
	}
	var members []instance.Member
	if *membersFile != "" {
		if members, err = readMembers(*membersFile); err != nil {
			return err
		}
	}
	err = instance.Init(e.ctx, *data, instance.InitOptions{
		Origin: *origin, Name: *name, Exercise: *exercise || ag.Exercise, Agreement: ag, Members: members, Logger: e.log,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s: origin %s, %d members\n", *data, *origin, len(members))
	return nil
}

// readMembers reads a members file.
func readMembers(path string) ([]instance.Member, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []struct {
		ID    string     `yaml:"id"`
		Name  string     `yaml:"name"`
		Role  truce.Role `yaml:"role"`
		Party string     `yaml:"party"`
		Keys  []string   `yaml:"keys"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]instance.Member, len(list))
	for i, m := range list {
		out[i] = instance.Member{ID: m.ID, Name: m.Name, Role: m.Role, Party: m.Party, PublicKeys: m.Keys}
	}
	return out, nil
}

func cmdMigrate(e *env, args []string) error {
	fs := e.flags("migrate")
	data := fs.String("data", "", "data directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data"); err != nil {
		return err
	}
	in, err := instance.Open(e.ctx, *data, instance.Options{Migrate: true, Logger: e.log})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "schema is up to date")
	return in.Close()
}

func cmdServe(e *env, args []string) error {
	fs := e.flags("serve")
	data := fs.String("data", "", "data directory")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data"); err != nil {
		return err
	}
	in, err := instance.Open(e.ctx, *data, instance.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer in.Close()
	return serve(e, in, *addr, func(url string) {
		fmt.Fprintf(e.stdout, "Truce serving %s at %s\n", in.Origin, url)
	})
}

// serve serves an open instance on addr until e.ctx ends, calling ready
// with the base URL once it listens.
func serve(e *env, in *instance.Instance, addr string, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h := api.New(api.Config{Seq: in.Seq, Store: in.Store, VKey: in.VKey, Logger: e.log})
	srv := api.NewHTTPServer(addr, h)
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

func cmdKey(e *env, args []string) error {
	if len(args) == 0 || args[0] != "generate" {
		fmt.Fprintln(e.stderr, "usage: truce key generate --out FILE [--member ID]")
		return errUsage
	}
	fs := e.flags("key generate")
	out := fs.String("out", "", "file to write the private key to (must not exist)")
	member := fs.String("member", "", "member id the key belongs to (recorded in the file)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	k, err := entry.GenerateKey(*member)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
		return err
	}
	if err := entry.WriteKeyFile(*out, k); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, k.PublicKey())
	return nil
}

func cmdToken(e *env, args []string) error {
	if len(args) == 0 || args[0] != "issue" {
		fmt.Fprintln(e.stderr, "usage: truce token issue --data DIR --member ID [--expires DURATION]")
		return errUsage
	}
	fs := e.flags("token issue")
	data := fs.String("data", "", "data directory")
	member := fs.String("member", "", "member id")
	expires := fs.String("expires", "", "lifetime, e.g. 30d (default: no expiry)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "data", "member"); err != nil {
		return err
	}
	var until time.Time
	now := time.Now()
	if *expires != "" {
		d, err := truce.ParseDuration(*expires)
		if err != nil {
			return err
		}
		until = now.Add(time.Duration(d))
	}
	in, err := instance.Open(e.ctx, *data, instance.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := in.Store.Record(e.ctx, "member", *member); err != nil {
		return fmt.Errorf("no member %q", *member)
	}
	tok, err := auth.IssueToken(e.ctx, in.Store, *member, now, until)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, tok)
	return nil
}
