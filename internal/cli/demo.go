package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/web"
)

func cmdDemo(e *env, args []string) error {
	fs := e.flags("demo")
	var sf serveFlags
	sf.register(fs) // the exercise's log is open to any tlog-tiles client

	data := fs.String("data", "truce-demo", "data directory (created with the exercise scenario if empty)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := sf.setUp(e); err != nil {
		return err
	}
	if !instance.Exists(*data) {
		fmt.Fprintf(e.stdout, "creating the exercise instance in %s ...\n", *data)
		if _, err := demo.Create(e.ctx, *data, time.Now(), instance.Options{Logger: e.log}); err != nil {
			return err
		}
	}
	in, err := instance.Open(e.ctx, *data, instance.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer in.Close()
	stop, err := demoWitnesses(e, in)
	if err != nil {
		return fmt.Errorf("starting the witnesses: %w", err)
	}
	defer stop()
	accounts, err := demo.ReadCredentials(*data)
	if err != nil {
		return err
	}
	for _, c := range accounts {
		sf.accounts = append(sf.accounts, web.Account{ID: c.ID, Name: c.Name, Role: string(c.Role), Party: c.Party, Password: c.Password})
	}
	creds, _ := filepath.Abs(filepath.Join(*data, demo.CredentialsFile))
	return serve(e, in, sf, func(url string) {
		// demo-env acts against the address the demo serves at, whatever port it took.
		if err := os.WriteFile(filepath.Join(*data, demoServerFile), []byte(url+"\n"), 0o644); err != nil {
			e.log.Warn("recording the demo's address", "err", err)
		}
		fmt.Fprintf(e.stdout, "Truce demo — EXERCISE DATA — serving at %s\n", url)
		fmt.Fprintf(e.stdout, "  sign in:     %s/signin (the exercise accounts are listed there)\n", url)
		fmt.Fprintf(e.stdout, "  log:         %s/log/checkpoint\n  API:         %s/api/v1/allegations (Authorization: Bearer <token>)\n", url, url)
		fmt.Fprintf(e.stdout, "  stories:     %s/stories (open sources: where the press and the parties' statements disagree)\n", url)
		fmt.Fprintf(e.stdout, "  credentials: %s\n", creds)
	})
}

func cmdDemoEnv(e *env, args []string) error {
	fs := e.flags("demo-env")
	data := fs.String("data", "truce-demo", "the demo's data directory")
	server := fs.String("server", "", "the demo's address (default: where the demo of --data serves)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *server == "" {
		*server = "http://127.0.0.1:8080"
		if b, err := os.ReadFile(filepath.Join(*data, demoServerFile)); err == nil {
			*server = strings.TrimSpace(string(b))
		}
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("name one demo member, e.g. pk-liaison")
	}
	creds, err := demo.ReadCredentials(*data)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if c.ID == fs.Arg(0) {
			fmt.Fprintf(e.stdout, "export TRUCE_SERVER=%s TRUCE_TOKEN=%s TRUCE_KEY=%s\n", shellQuote(*server), shellQuote(c.Token), shellQuote(c.KeyFile))
			return nil
		}
	}
	return fmt.Errorf("no demo member %q", fs.Arg(0))
}

// demoServerFile, in a demo's data directory, holds the address it serves at.
const demoServerFile = "demo-server"

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }

// demoWitnesses starts one witness per party beside the demo.
func demoWitnesses(e *env, in *instance.Instance) (stop func(), err error) {
	return in.StartLocalWitnesses(e.ctx, []instance.LocalWitness{
		{Dir: "pk", Name: "witness.pk.exercise.truce.example"},
		{Dir: "af", Name: "witness.af.exercise.truce.example"},
	}, e.log)
}
