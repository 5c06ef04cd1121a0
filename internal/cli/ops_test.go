package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func testEnv() *env {
	return &env{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "truce.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The configuration file sets serve's flags by name; the command line
// wins, a list given on it replaces the file's; a key that is no flag, a
// value of the wrong shape or a bad value is an error naming the key.
func TestConfigFile(t *testing.T) {
	cfg := writeFile(t, `
data: /srv/truce
addr: 0.0.0.0:8443
log-format: json
trusted-proxies: [10.0.0.0/8, "::1"]
ingest: https://a.example/feed, https://b.example/feed
secure-cookies: true
member-rate: 5
request-timeout: 45s
`)
	fs, c := newServeCommand(testEnv())
	if err := c.parse(fs, []string{"--config", cfg, "--addr", "127.0.0.1:9999", "--trusted-proxies", "192.168.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	sf := c.sf
	if *c.data != "/srv/truce" || sf.addr != "127.0.0.1:9999" || sf.ops.logFormat != "json" || !sf.secureCookies ||
		sf.limits.MemberRate != 5 || sf.limits.RequestTimeout != 45*time.Second ||
		!slices.Equal(sf.ops.trustedProxies, []string{"192.168.0.0/16"}) ||
		!slices.Equal(sf.ingest, []string{"https://a.example/feed", "https://b.example/feed"}) {
		t.Fatalf("flags after the file: data %s addr %s log %s secure %v rate %v timeout %v proxies %v ingest %v",
			*c.data, sf.addr, sf.ops.logFormat, sf.secureCookies, sf.limits.MemberRate, sf.limits.RequestTimeout, sf.ops.trustedProxies, sf.ingest)
	}
	if err := sf.ops.check(); err != nil {
		t.Fatal(err)
	}
	fs, c = newServeCommand(testEnv())
	if err := c.parse(fs, []string{"--config", writeFile(t, "")}); err != nil {
		t.Fatalf("an empty file: %v", err)
	}

	for content, want := range map[string]string{
		"data: /x\nlisten: 0.0.0.0:80\n":    `truce.yaml:2: unknown key "listen"`,
		"config: other.yaml\n":              `unknown key "config"`,
		"addr: [a, b]\n":                    `truce.yaml:1: "addr" takes one value, not a list`,
		"addr: {host: a}\n":                 `"addr" takes a value, not a mapping`,
		"member-rate: fast\n":               `truce.yaml:1: member-rate: `,
		"secure-cookies: yes please\n":      `secure-cookies: `,
		"addr: a\naddr: b\n":                `"addr" given twice`,
		"- data\n":                          `maps flag names to values`,
		"data: [unclosed\n":                 `truce.yaml`,
		"trusted-proxies: [[10.0.0.0/8]]\n": `each item is a value`,
	} {
		fs, c := newServeCommand(testEnv())
		err := c.parse(fs, []string{"--config", writeFile(t, content)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", content, err, want)
		}
	}

	// The real command: refused before anything is opened, the key named.
	var stderr bytes.Buffer
	code := Main(context.Background(), []string{"serve", "--config", writeFile(t, "data: /nonexistent\ntls-certificate: x.pem\n")}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `unknown key "tls-certificate"`) {
		t.Errorf("truce serve with an unknown key = %d %s", code, stderr.String())
	}
	stderr.Reset()
	code = Main(context.Background(), []string{"serve", "--config", writeFile(t, "data: /nonexistent\ntls-cert: x.pem\n")}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "--tls-cert and --tls-key go together") {
		t.Errorf("truce serve with a certificate and no key = %d %s", code, stderr.String())
	}
}

func TestOpsFlagsCheck(t *testing.T) {
	for args, want := range map[string]string{
		"--tls-key k.pem": "go together",
		"--tls-cert c --tls-key k --autocert a.example": "exclude each other",
		"--autocert-email ops@example.org":              "goes with --autocert",
		"--http-redirect :80":                           "needs --tls-cert or --autocert",
		"--trusted-proxies proxy.example":               "--trusted-proxies",
		"--log-format xml":                              "text or json",
	} {
		fs, c := newServeCommand(testEnv())
		if err := c.parse(fs, strings.Fields(args)); err != nil {
			t.Fatal(err)
		}
		if err := c.sf.ops.check(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}

// The deployment files stay valid truce serve invocations: the service
// unit's ExecStart and the container's CMD parse as serve's flags, the
// example configuration they use loads, and what they name agrees (the
// data directory the unit may write; the port the health check asks).
func TestDeployFiles(t *testing.T) {
	unit, err := os.ReadFile("../../deploy/truce.service")
	if err != nil {
		t.Fatal(err)
	}
	directive := func(name string) []string {
		var out []string
		sc := bufio.NewScanner(bytes.NewReader(unit))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), name+"="); ok {
				out = append(out, v)
			}
		}
		return out
	}
	exec := directive("ExecStart")
	if len(exec) != 1 {
		t.Fatalf("ExecStart lines: %q", exec)
	}
	args := strings.Fields(exec[0])
	if filepath.Base(args[0]) != "truce" || args[1] != "serve" {
		t.Fatalf("ExecStart runs %q", exec[0])
	}
	fs, c := newServeCommand(testEnv())
	if err := parse(fs, args[2:]); err != nil || fs.NArg() != 0 {
		t.Fatalf("ExecStart's flags %q: %v", args[2:], err)
	}
	if *c.config != "/etc/truce/truce.yaml" {
		t.Fatalf("the unit reads %q, not the example installed as /etc/truce/truce.yaml", *c.config)
	}
	if err := applyConfig(fs, "../../deploy/truce.yaml"); err != nil {
		t.Fatalf("the example configuration: %v", err)
	}
	if err := c.sf.ops.check(); err != nil {
		t.Fatalf("the example configuration: %v", err)
	}
	if !slices.Contains(directive("ReadWritePaths"), *c.data) || !slices.Contains(directive("StateDirectory"), filepath.Base(*c.data)) {
		t.Errorf("the unit lets truce write %v, but the configuration's data is %s", directive("ReadWritePaths"), *c.data)
	}
	for _, want := range []string{"User", "NoNewPrivileges", "ProtectSystem", "Restart"} {
		if len(directive(want)) == 0 {
			t.Errorf("the unit has no %s=", want)
		}
	}
	if directive("ProtectSystem")[0] != "strict" || directive("Restart")[0] != "on-failure" || directive("User")[0] == "root" {
		t.Errorf("the unit's hardening: ProtectSystem=%v Restart=%v User=%v", directive("ProtectSystem"), directive("Restart"), directive("User"))
	}

	cf, err := os.ReadFile("../../deploy/Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	var entry, cmd []string
	var health, user string
	for _, line := range strings.Split(string(cf), "\n") {
		switch {
		case strings.HasPrefix(line, "ENTRYPOINT "):
			json.Unmarshal([]byte(strings.TrimPrefix(line, "ENTRYPOINT ")), &entry)
		case strings.HasPrefix(line, "CMD "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "CMD ")), &cmd); err != nil {
				t.Fatalf("CMD is not a JSON array: %s", line)
			}
		case strings.HasPrefix(line, "USER "):
			user = line
		case strings.Contains(line, "CMD wget"):
			health = line
		}
	}
	if len(entry) != 1 || filepath.Base(entry[0]) != "truce" || len(cmd) == 0 || cmd[0] != "serve" {
		t.Fatalf("the container runs %q %q", entry, cmd)
	}
	fs, c = newServeCommand(testEnv())
	if err := c.parse(fs, cmd[1:]); err != nil {
		t.Fatalf("the container's CMD %q: %v", cmd, err)
	}
	if err := c.sf.ops.check(); err != nil || *c.data == "" {
		t.Fatalf("the container's CMD %q: %v, data %q", cmd, err, *c.data)
	}
	if !strings.Contains(string(cf), `VOLUME ["`+*c.data+`"]`) {
		t.Errorf("the container's volume is not its data directory %s", *c.data)
	}
	_, port, _ := net.SplitHostPort(c.sf.addr)
	if m := regexp.MustCompile(`http://127\.0\.0\.1:(\d+)/(healthz|readyz)`).FindStringSubmatch(health); m == nil || m[1] != port {
		t.Errorf("the health check %q does not ask the port served, %s", health, port)
	}
	if user == "" || strings.Contains(user, "root") {
		t.Errorf("the container runs as %q", user)
	}
}
