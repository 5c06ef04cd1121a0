package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/instance"
)

func cmdDemo(e *env, args []string) error {
	fs := e.flags("demo")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	data := fs.String("data", "truce-demo", "data directory (created with the exercise scenario if empty)")
	if err := parse(fs, args); err != nil {
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
	creds, _ := filepath.Abs(filepath.Join(*data, demo.CredentialsFile))
	return serve(e, in, *addr, func(url string) {
		fmt.Fprintf(e.stdout, "Truce demo — EXERCISE DATA — serving at %s\n", url)
		fmt.Fprintf(e.stdout, "  log:         %s/log/checkpoint\n  API:         %s/api/v1/allegations (Authorization: Bearer <token>)\n", url, url)
		fmt.Fprintf(e.stdout, "  credentials: %s\n", creds)
	})
}
