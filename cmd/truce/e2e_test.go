package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	_ "modernc.org/sqlite"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/testkit/c2sp"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/wire"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "truce-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "truce")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building truce: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the binary to completion.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// server is a running truce serve or demo.
type server struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// output is what the server printed so far.
func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// filingAgainst is an allegation of cross-border fire by party against,
// an hour ago, with narrative.
func filingAgainst(against, narrative string) truce.AllegationFiling {
	return truce.AllegationFiling{Category: "armed_clash", Occurred: truce.Occurred{From: time.Now().Add(-time.Hour).UTC(), Precision: 1},
		Place:       truce.Place{Lat: 33, Lon: 70, GeoPrecision: 2, Country: map[string]string{"AF": "PK", "PK": "AF"}[against]},
		Clauses:     []string{"no-cross-border-fire"},
		Perpetrator: truce.Perpetrator{Kind: truce.PerpParty, Party: against},
		Narrative:   narrative}
}

var urlLine = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

func start(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stdout, _ := cmd.StdoutPipe()
	s := &server{cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if u := urlLine.FindString(sc.Text()); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
		cmd.Wait()
		close(s.done)
	}()
	select {
	case s.url = <-found:
	case <-s.done:
		t.Fatalf("%v exited: %s", args, s.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("%v printed no URL: %s", args, s.output())
	}
	for i := 0; ; i++ {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("/healthz never answered 200")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { s.stop(syscall.SIGKILL) })
	return s
}

func (s *server) stop(sig syscall.Signal) {
	s.cmd.Process.Signal(sig)
	<-s.done
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// TestDemo runs the README's demo command, checks the external contracts,
// has an independent verifier accept the log before and after a restart,
// files allegations with the CLI online and offline, and checks that
// verify and replay pass on the instance and fail on tampered copies.
func TestDemo(t *testing.T) {
	if out, _, code := run(t, "help"); code != 0 || !strings.Contains(out, "demo") || !strings.Contains(out, "verify") || !strings.Contains(out, "receipt") {
		t.Fatalf("truce help = %d %s", code, out)
	}
	data := filepath.Join(t.TempDir(), "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	if !strings.Contains(s.output(), "EXERCISE") {
		t.Fatalf("the demo does not say it is exercise data: %s", s.output())
	}

	// demo-credentials.json, as docs/architecture.md (external contracts) fixes it.
	creds, err := demo.ReadCredentials(data)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	byID := map[string]demo.Credential{}
	for _, c := range creds {
		if c.ID == "" || c.Name == "" || c.Password == "" || c.Token == "" || c.KeyFile == "" {
			t.Fatalf("incomplete credential %+v", c)
		}
		if _, err := os.Stat(c.KeyFile); err != nil {
			t.Fatalf("key file: %v", err)
		}
		count[string(c.Role)+"/"+c.Party]++
		byID[c.ID] = c
	}
	for _, need := range []string{"liaison/PK", "liaison/AF", "mediator/TR", "mediator/QA", "monitor/MECH", "analyst/MECH", "admin/MECH"} {
		if count[need] == 0 {
			t.Errorf("no %s in the demo credentials", need)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(data, demo.CredentialsFile))
	var generic []map[string]any
	json.Unmarshal(raw, &generic)
	for _, k := range []string{"id", "name", "role", "party", "password", "token", "key_file"} {
		if _, ok := generic[0][k]; !ok {
			t.Fatalf("credentials lack %q", k)
		}
	}

	vkey := strings.TrimSpace(string(get(t, s.url+"/log/vkey")))
	res, err := c2sp.Verify(context.Background(), s.url+"/log", demo.Origin, vkey, "")
	if err != nil {
		t.Fatalf("independent verifier: %v", err)
	}
	if res.Size < 20 {
		t.Fatalf("demo log has %d entries", res.Size)
	}
	witnessKeys := checkCosigned(t, s.url, vkey)

	// File an allegation with the CLI, online.
	pk := byID["pk-liaison"]
	env := append(os.Environ(), "TRUCE_SERVER="+s.url, "TRUCE_TOKEN="+pk.Token, "TRUCE_KEY="+pk.KeyFile)
	allege := []string{"allege", "--category", "shelling_artillery_missile", "--at", time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04"),
		"--lat", "30.92", "--lon", "66.45", "--country", "PK", "--admin1", "Balochistan", "--location", "Chaman",
		"--clause", "no-cross-border-fire", "--perpetrator", "party:AF", "--injured", "2", "--narrative", "[EXERCISE] e2e: mortar fire at Chaman"}
	out, errOut, code := runEnv(t, env, allege...)
	if code != 0 || !strings.Contains(out, "logged allegation.filed as allegation AL-") {
		t.Fatalf("truce allege = %d %s %s", code, out, errOut)
	}
	// Offline: sign into a file, submit later.
	envelope := filepath.Join(t.TempDir(), "signed.json")
	offline := append([]string{"allege", "--server", "", "--out", envelope, "--origin", demo.Origin}, allege[1:]...)
	if out, errOut, code := runEnv(t, env, offline...); code != 0 || !strings.Contains(out, "signed") {
		t.Fatalf("offline allege = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := runEnv(t, env, "submit", envelope); code != 0 || !strings.Contains(out, "logged") {
		t.Fatalf("submit = %d %s %s", code, out, errOut)
	}
	// Submitting it again is refused: the seq was used.
	if _, errOut, code := runEnv(t, env, "submit", envelope); code == 0 || !strings.Contains(errOut, "reused_seq") {
		t.Fatalf("resubmit = %d %s", code, errOut)
	}
	// A bad allegation is refused with a reason and the log does not grow.
	before := logSize(t, s.url)
	bad := append([]string{}, allege...)
	bad[len(bad)-1] = ""
	if _, errOut, code := runEnv(t, env, bad...); code == 0 || !strings.Contains(errOut, "narrative") {
		t.Fatalf("allege without narrative = %d %s", code, errOut)
	}
	badLat := append([]string{}, allege...)
	badLat[6] = "95" // --lat
	if _, errOut, code := runEnv(t, env, badLat...); code == 0 || !strings.Contains(errOut, "bad_location") {
		t.Fatalf("allege off the globe = %d %s", code, errOut)
	}
	if after := logSize(t, s.url); after != before {
		t.Fatalf("refused allegations grew the log from %d to %d", before, after)
	}

	// verify and replay pass beside the running server.
	if out, errOut, code := run(t, "verify", "--data", data); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("verify = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := run(t, "replay", "--data", data); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("replay = %d %s %s", code, out, errOut)
	}
	// A receipt verifies offline.
	out, _, code = run(t, "receipt", "--data", data, "5")
	r, err := tlog.ParseReceipt([]byte(out))
	if code != 0 || err != nil {
		t.Fatalf("receipt = %d %v %s", code, err, out)
	}
	v, _ := note.NewVerifier(vkey)
	if _, err := r.Verify(demo.Origin, v, r.Extra); err != nil || r.Index != 5 {
		t.Fatalf("receipt does not verify: %v", err)
	}

	// An auditor checks the log over HTTP as a party would; a finding's
	// receipt verifies offline.
	state := filepath.Join(t.TempDir(), "audit")
	for range 2 {
		out, errOut, code := run(t, "audit", "--log", s.url, "--token", pk.Token, "--state", state)
		if code != 0 || !regexp.MustCompile(`(?m)^ok: \d+ entries`).MatchString(out) || !strings.Contains(out, "witness.pk.") || !strings.Contains(out, "records match the API") {
			t.Fatalf("truce audit = %d %s %s", code, out, errOut)
		}
	}
	// A mediator's audit opens and checks every sealed entry; a party's
	// names those it could not open.
	sealed := regexp.MustCompile(`; (\d+) sealed entries opened and checked`)
	out, errOut, code = run(t, "audit", "--log", s.url, "--token", byID["tr-mediator"].Token)
	if m := sealed.FindStringSubmatch(out); code != 0 || m == nil || m[1] == "0" || strings.Contains(out, "not checked") {
		t.Fatalf("the mediator's truce audit = %d %s %s", code, out, errOut)
	}
	out, errOut, code = run(t, "audit", "--log", s.url, "--token", byID["af-liaison"].Token)
	if code != 0 || !regexp.MustCompile(`(?m)^not checked: \d+ entries`).MatchString(out) || !regexp.MustCompile(`(?m)^  entry \d+ \(task\.assigned\): sealed`).MatchString(out) {
		t.Fatalf("AF's truce audit = %d %s %s", code, out, errOut)
	}
	out, errOut, code = runEnv(t, env, "receipt", "finding/FD-0001")
	if code != 0 || !strings.Contains(out, "— witness.pk.") {
		t.Fatalf("truce receipt = %d %s %s", code, out, errOut)
	}
	receiptFile := filepath.Join(t.TempDir(), "FD-0001.json")
	os.WriteFile(receiptFile, []byte(out), 0o600)
	check := []string{"verify-receipt", receiptFile, "--log-key", vkey}
	for _, k := range witnessKeys {
		check = append(check, "--witness-key", k)
	}
	if got, errOut, code := run(t, check...); code != 0 || !strings.Contains(got, "ok: finding FD-0001 rests on") {
		t.Fatalf("truce verify-receipt = %d %s %s", code, got, errOut)
	}
	// Without the PK witness's cosignature it no longer verifies.
	os.WriteFile(receiptFile, bytes.ReplaceAll([]byte(out), []byte("— witness.pk."), []byte("— witness.pK.")), 0o600)
	if _, _, code := run(t, check...); code == 0 {
		t.Fatal("truce verify-receipt accepted a changed receipt")
	}

	// Restart: the log is the same log, grown consistently.
	s.stop(syscall.SIGTERM)
	s2 := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	res2, err := c2sp.Verify(context.Background(), s2.url+"/log", demo.Origin, vkey, "")
	if err != nil {
		t.Fatalf("independent verifier after restart: %v", err)
	}
	if res2.Size < res.Size+2 {
		t.Fatalf("after restart the log has %d entries, before %d", res2.Size, res.Size)
	}
	checkConsistent(t, s2.url, res, res2)
	s2.stop(syscall.SIGTERM)

	// Tampered copies fail.
	copyDir := func() string {
		d := filepath.Join(t.TempDir(), "copy")
		if out, err := exec.Command("cp", "-r", data, d).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		return d
	}
	tampered := copyDir()
	db := openSQL(t, tampered)
	var bundle []byte
	rows, _ := db.Query(`SELECT data FROM bundles WHERE n = 0 ORDER BY first`)
	for rows.Next() {
		var frag []byte
		rows.Scan(&frag)
		bundle = append(bundle, frag...)
	}
	rows.Close()
	entries, _ := tlog.BundleEntries(bundle)
	i := bytes.Index(bundle, entries[10]) + bytes.Index(entries[10], []byte(`"payload":"`)) + 30
	bundle[i] ^= 1
	db.Exec(`DELETE FROM bundles WHERE n = 0`)
	db.Exec(`INSERT INTO bundles (n, first, data) VALUES (0, 0, ?)`, bundle)
	db.Close()
	if _, errOut, code := run(t, "verify", "--data", tampered); code == 0 || !strings.Contains(errOut, "entry 10:") {
		t.Fatalf("verify on a tampered entry = %d %s", code, errOut)
	}
	edited := copyDir()
	db = openSQL(t, edited)
	db.Exec(`UPDATE records SET doc = replace(doc, 'Chaman', 'Quetta') WHERE id = 'AL-0001'`)
	db.Close()
	if _, errOut, code := run(t, "replay", "--data", edited); code == 0 || !strings.Contains(errOut, "allegation/AL-0001") {
		t.Fatalf("replay on an edited record = %d %s", code, errOut)
	}
	if _, _, code := run(t, "verify", "--data", edited); code != 0 {
		t.Fatal("verify failed on a log whose projection (not log) was edited")
	}
}

// checkCosigned checks that /log/checkpoint carries the log's signature
// and a cosignature by each witness /log/witnesses lists, and returns
// their keys.
func checkCosigned(t *testing.T, url, vkey string) []string {
	t.Helper()
	var peers []struct{ Name, VKey, URL string }
	if err := json.Unmarshal(get(t, url+"/log/witnesses"), &peers); err != nil || len(peers) != 2 {
		t.Fatalf("/log/witnesses = %v %v", peers, err)
	}
	logV, _ := note.NewVerifier(vkey)
	verifiers := []note.Verifier{logV}
	var keys []string
	for _, p := range peers {
		v, err := fnote.NewVerifierForCosignatureV1(p.VKey)
		if err != nil || v.Name() != p.Name || !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
			t.Fatalf("witness %+v: %v", p, err)
		}
		verifiers = append(verifiers, v)
		keys = append(keys, p.VKey)
	}
	n, err := note.Open(get(t, url+"/log/checkpoint"), note.VerifierList(verifiers...))
	if err != nil || len(n.Sigs) != 3 {
		t.Fatalf("the checkpoint carries %d verified signatures (%v), want the log's and two witnesses'", len(n.Sigs), err)
	}
	return keys
}

func runEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return stdout.String(), stderr.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), 0
}

// logSize is how many entries the served log has committed, as /healthz
// says: a refused command leaves it as it was the moment it is answered,
// so there is nothing to wait for.
func logSize(t *testing.T, url string) int64 {
	t.Helper()
	var h wire.Health
	if err := json.Unmarshal(get(t, url+"/healthz"), &h); err != nil {
		t.Fatal(err)
	}
	return h.Size
}

func checkConsistent(t *testing.T, url string, old, cur *c2sp.Result) {
	t.Helper()
	var p struct{ Hashes [][]byte }
	if err := json.Unmarshal(get(t, fmt.Sprintf("%s/log/proof/consistency?old=%d&size=%d", url, old.Size, cur.Size)), &p); err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cur.Size, p.Hashes, old.Root, cur.Root); err != nil {
		t.Fatalf("the restarted log is not an extension of the first: %v", err)
	}
}

func openSQL(t *testing.T, dir string) *sql.DB {
	db, err := sql.Open("sqlite", filepath.Join(dir, "truce.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestKillDuringLoad kills the server with SIGKILL while clients submit,
// restarts it, and checks that every acknowledged entry is in a log that
// verifies.
func TestKillDuringLoad(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	creds, _ := demo.ReadCredentials(data)
	var authors []demo.Credential
	for _, c := range creds {
		if c.Role == truce.RoleLiaison || c.Role == truce.RoleMonitor {
			authors = append(authors, c)
		}
	}
	type acked struct {
		index   int64
		payload string
	}
	var mu sync.Mutex
	var acks []acked
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, a := range authors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, _ := entry.ReadKeyFile(a.KeyFile)
			c := client.New(s.url, a.Token)
			c.HTTP.Timeout = 5 * time.Second
			seq, err := c.Seq(context.Background(), a.ID)
			if err != nil {
				t.Error(err)
				return
			}
			against := map[string]string{"PK": "AF", "AF": "PK", "MECH": "AF"}[a.Party]
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				seq++
				body := filingAgainst(against, fmt.Sprintf("[EXERCISE] load %s %d", a.ID, n))
				env, _ := sequencer.Sign(rules.KindAllegationFiled, demo.Origin, a.ID, seq, time.Now(), body, k)
				ack, err := c.Submit(context.Background(), env)
				if err != nil {
					return // the server died: this one may or may not be in
				}
				mu.Lock()
				acks = append(acks, acked{ack.Index, env.Payload})
				mu.Unlock()
			}
		}()
	}
	// Kill it in the middle of the load: once hundreds of entries have been
	// acknowledged, whatever is in flight then.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
	}
	s.stop(syscall.SIGKILL)
	close(stop)
	wg.Wait()
	if len(acks) < 50 {
		t.Fatalf("only %d entries acknowledged before the kill", len(acks))
	}
	if out, errOut, code := run(t, "verify", "--data", data); code != 0 {
		t.Fatalf("verify after SIGKILL = %d %s %s", code, out, errOut)
	}
	// The demo again, with the witnesses it needs to publish a checkpoint
	// of the whole log.
	s2 := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	vkey := strings.TrimSpace(string(get(t, s2.url+"/log/vkey")))
	res, err := c2sp.Verify(context.Background(), s2.url+"/log", demo.Origin, vkey, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acks {
		if a.index >= int64(res.Size) {
			t.Fatalf("acknowledged entry %d is beyond the restarted log's checkpoint (%d)", a.index, res.Size)
		}
		_, e, err := entry.DecodeLeaf(res.Leaves[a.index], a.index)
		if err != nil || e.Envelope.Payload != a.payload {
			t.Fatalf("acknowledged entry %d is not what was acknowledged", a.index)
		}
	}
	t.Logf("%d acknowledged entries all present after SIGKILL; log size %d", len(acks), res.Size)
}

// TestWalkthrough follows the README: one allegation from filing to
// consequence, every step a CLI command as a different member.
func TestWalkthroughSteps(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	as := func(member string) []string {
		out, errOut, code := run(t, "demo-env", "--data", data, "--server", s.url, member)
		if code != 0 {
			t.Fatalf("demo-env: %s", errOut)
		}
		env := os.Environ()
		for _, kv := range strings.Fields(strings.TrimPrefix(strings.TrimSpace(out), "export ")) {
			env = append(env, strings.ReplaceAll(kv, "'", ""))
		}
		return env
	}
	ids := regexp.MustCompile(`as \w+ ([A-Z]{2}-\d{4})`)
	step := func(member string, args ...string) string {
		t.Helper()
		out, errOut, code := runEnv(t, as(member), args...)
		if code != 0 {
			t.Fatalf("%s: truce %s = %d %s %s", member, strings.Join(args, " "), code, out, errOut)
		}
		if m := ids.FindStringSubmatch(out); m != nil {
			return m[1]
		}
		return ""
	}
	al := step("pk-liaison", "allege", "--category", "shelling_artillery_missile", "--at", "-3h",
		"--lat", "30.921", "--lon", "66.460", "--country", "PK", "--admin1", "Balochistan", "--location", "Chaman",
		"--clause", "no-cross-border-fire", "--perpetrator", "party:AF", "--injured", "2",
		"--narrative", "[EXERCISE] Mortar rounds landed near the Friendship Gate at Chaman.")
	step("af-liaison", "reply", "--allegation", al, "--response", "deny", "--narrative", "Afghan forces did not fire.")
	step("tr-mediator", "admit", "--allegation", al)
	cs := step("tr-mediator", "open-case", "--allegation", al, "--title", "Mortar fire at Chaman")
	tk := step("tr-mediator", "assign-task", "--case", cs, "--type", "site_visit", "--assignee", "monitor", "--due", "+2d",
		"--description", "Visit the impact sites.")
	step("monitor", "complete-task", "--task", tk, "--result", "Three 82 mm impacts; bearing 295° towards the Afghan posts.")
	fd := step("tr-mediator", "propose-finding", "--case", cs, "--determination", "violation", "--responsible", "AF",
		"--clauses", "no-cross-border-fire", "--severity", "serious", "--confidence", "high", "--reasoning", "Impacts and bearing establish it.")
	// A party may not sign a finding: refused, and the log does not grow.
	// While the mediators deliberate, the finding is not even shown to the
	// parties: to them it does not exist.
	before := logSize(t, s.url)
	if out, errOut, code := runEnv(t, as("pk-liaison"), "sign-finding", "--finding", fd, "--concur"); code == 0 || !strings.Contains(errOut, "not_found") {
		t.Fatalf("a party signing a finding = %d %s %s", code, out, errOut)
	}
	if after := logSize(t, s.url); after != before {
		t.Fatalf("a refused command grew the log from %d to %d", before, after)
	}
	step("tr-mediator", "sign-finding", "--finding", fd, "--concur")
	step("qa-mediator", "sign-finding", "--finding", fd, "--concur")

	c := client.New(s.url, "")
	for _, line := range as("qa-mediator") {
		if v, ok := strings.CutPrefix(line, "TRUCE_TOKEN="); ok {
			c.Token = v
		}
	}
	var f struct {
		Finding truce.Finding `json:"finding"`
	}
	if err := c.Do(context.Background(), "GET", "/api/v1/findings/"+fd, nil, &f); err != nil {
		t.Fatal(err)
	}
	// AF's third violation within 30 days in the exercise: a formal notice
	// and the referral to the guarantors.
	if f.Finding.Status != truce.FindingInEffect || len(f.Finding.Signatures) != 2 || len(f.Finding.Consequences) != 2 {
		t.Fatalf("finding %+v", f.Finding)
	}
	cq := f.Finding.Consequences[0]
	// The README shows these ids: they are what a fresh demo gives.
	if got := strings.Join([]string{al, cs, tk, fd, cq}, " "); got != "AL-0034 CS-0011 TK-0009 FD-0010 CQ-0008" {
		t.Errorf("the walkthrough's ids are %s; update the README", got)
	}
	step("qa-mediator", "fulfil", "--consequence", cq, "--note", "AF acknowledged the finding in writing.")
	var q struct {
		Consequence truce.Consequence   `json:"consequence"`
		History     []truce.HistoryItem `json:"history"`
	}
	if err := c.Do(context.Background(), "GET", "/api/v1/consequences/"+cq, nil, &q); err != nil {
		t.Fatal(err)
	}
	if q.Consequence.Status != truce.ConsequenceFulfilled || q.Consequence.Target != "AF" || len(q.History) != 2 {
		t.Fatalf("consequence %+v, history %+v", q.Consequence, q.History)
	}

	// The demo's own findings and consequences, as the done-when asks.
	var list struct {
		Items []truce.Consequence `json:"items"`
	}
	if err := c.Do(context.Background(), "GET", "/api/v1/consequences?limit=100", nil, &list); err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, q := range list.Items {
		rules[q.Rule] = true
	}
	if !rules["third-violation-referral"] || !rules["formal-notice"] {
		t.Fatalf("consequences from rules %v", rules)
	}

	// The liaison rotates its key from the command line: adds a new one
	// (signed with the old), signs with the new, revokes the old; the old
	// then signs nothing.
	pk := as("pk-liaison")
	newKey := filepath.Join(t.TempDir(), "pk-new.key")
	if _, errOut, code := run(t, "key", "generate", "--out", newKey, "--member", "pk-liaison"); code != 0 {
		t.Fatalf("key generate = %d %s", code, errOut)
	}
	oldKey := ""
	for _, kv := range pk {
		if v, ok := strings.CutPrefix(kv, "TRUCE_KEY="); ok {
			oldKey = v
		}
	}
	old, err := entry.ReadKeyFile(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	// The new key file gives the key and its proof of possession.
	step("pk-liaison", "add-key", "--member", "pk-liaison", "--new-key", newKey)
	withNew := append(append([]string{}, pk...), "TRUCE_KEY="+newKey)
	if out, errOut, code := runEnv(t, withNew, "allege", "--category", "armed_clash", "--at", "-2h", "--lat", "33.9", "--lon", "70.1",
		"--country", "PK", "--location", "Kurram", "--clause", "no-cross-border-fire", "--perpetrator", "party:AF",
		"--narrative", "[EXERCISE] Small-arms fire across the border."); code != 0 {
		t.Fatalf("signing with the new key = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := runEnv(t, withNew, "revoke-key", "--member", "pk-liaison", "--body-key", old.ID(), "--reason", "rotated"); code != 0 {
		t.Fatalf("revoke-key = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := runEnv(t, pk, "allege", "--category", "armed_clash", "--at", "-2h", "--lat", "33.9", "--lon", "70.1",
		"--country", "PK", "--location", "Kurram", "--clause", "no-cross-border-fire", "--perpetrator", "party:AF",
		"--narrative", "[EXERCISE] Signed with the revoked key."); code == 0 || !strings.Contains(errOut, "revoked") {
		t.Fatalf("signing with the revoked key = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := run(t, "replay", "--data", data); code != 0 {
		t.Fatalf("replay = %d %s %s", code, out, errOut)
	}
}

// TestDemoAccess checks issue 4's promises on the demo itself.
func TestDemoAccess(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	creds, _ := demo.ReadCredentials(data)
	tok := map[string]string{}
	for _, c := range creds {
		tok[c.ID] = c.Token
	}
	get := func(who, path string) (int, string) {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		if who != "" {
			req.Header.Set("Authorization", "Bearer "+tok[who])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("", "/api/v1/allegations"); code != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
		t.Fatalf("no token = %d %s", code, body)
	}
	// The mechanism's own material: the monitors' internal report and a
	// protected source's account.
	_, mediatorList := get("tr-mediator", "/api/v1/allegations?limit=200")
	var list struct {
		Items []map[string]any `json:"items"`
	}
	json.Unmarshal([]byte(mediatorList), &list)
	var internal string
	for _, a := range list.Items {
		if a["visibility"] == "mechanism" {
			internal = a["id"].(string)
			if opened, ok := a["sealed_content"].(map[string]any); !ok || opened["observation_post"] == nil {
				t.Fatalf("the mediator does not see the sealed details: %v", a)
			}
		}
	}
	if internal == "" {
		t.Fatal("the demo has no mechanism-only allegation")
	}
	_, evidence := get("tr-mediator", "/api/v1/evidence?limit=200")
	if !strings.Contains(evidence, "a resident of Salarzai") {
		t.Fatal("the mediator does not see the protected source")
	}
	for _, party := range []string{"af-liaison", "pk-liaison"} {
		for _, path := range []string{"/api/v1/allegations?limit=200", "/api/v1/exports/allegations.csv", "/api/v1/exports/allegations.csv?format=hxl", "/api/v1/exports/allegations.geojson"} {
			code, body := get(party, path)
			if code != 200 || strings.Contains(body, internal) || strings.Contains(body, "OP-7") {
				t.Errorf("%s %s = %d, shows the internal report: %v", party, path, code, strings.Contains(body, internal))
			}
		}
		if code, _ := get(party, "/api/v1/allegations/"+internal); code != 404 {
			t.Errorf("%s reading the internal report = %d", party, code)
		}
		if _, body := get(party, "/api/v1/evidence?limit=200"); strings.Contains(body, "Salarzai") || strings.Contains(body, "protected source") {
			t.Errorf("%s sees the protected source's evidence", party)
		}
	}
	// A party liaison's token trying to sign a finding.
	before := logSize(t, s.url)
	req, _ := http.NewRequest("POST", s.url+"/api/v1/findings/FD-0001/signatures", strings.NewReader(`{"body":{"finding":"FD-0001","concur":true}}`))
	req.Header.Set("Authorization", "Bearer "+tok["pk-liaison"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), `"code":"forbidden"`) {
		t.Fatalf("a liaison signing a finding = %d %s", resp.StatusCode, b)
	}
	if after := logSize(t, s.url); after != before {
		t.Fatalf("the refused signature grew the log from %d to %d", before, after)
	}
}

// TestWitnessCommands sets up a witness by hand, as a party would: init
// it for the log's key, serve it, attach it to the instance; the served
// checkpoint then carries its cosignature, and the auditor requires it.
func TestWitnessCommands(t *testing.T) {
	dir := t.TempDir()
	data, wdir := filepath.Join(dir, "instance"), filepath.Join(dir, "witness")
	if out, errOut, code := run(t, "init", "--data", data, "--origin", "truce.example.org/log", "--agreement", "../../internal/demo/agreement.yaml"); code != 0 {
		t.Fatalf("init = %d %s %s", code, out, errOut)
	}
	// The log names the version of the rules it is derived under; a
	// version this build does not know is refused, and nothing is logged.
	if out, errOut, code := run(t, "rules", "--data", data); code != 0 || !strings.Contains(out, fmt.Sprintf("rules version %d in force", rules.LatestVersion)) {
		t.Fatalf("rules = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := run(t, "rules", "--data", data, "--adopt", "99"); code == 0 || !strings.Contains(errOut, "not known to this build") {
		t.Fatalf("adopting an unknown version = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := run(t, "rules", "--data", data, "--adopt", "1"); code == 0 || !strings.Contains(errOut, "only moves forward") {
		t.Fatalf("adopting the version in force = %d %s %s", code, out, errOut)
	}
	db := openSQL(t, data)
	var vkey string
	db.QueryRow(`SELECT value FROM meta WHERE key = 'log_vkey'`).Scan(&vkey)
	db.Close()
	out, errOut, code := run(t, "witness", "init", "--data", wdir, "--name", "witness.pk.example", "--log-key", vkey)
	wkey := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(wkey, "witness.pk.example+") {
		t.Fatalf("witness init = %d %s %s", code, out, errOut)
	}
	_, otherLog, _ := note.GenerateKey(nil, "other.example/log")
	if out, errOut, code := run(t, "witness", "add-log", "--data", wdir, "--log-key", otherLog); code != 0 || !strings.Contains(out, "following") {
		t.Fatalf("witness add-log = %d %s %s", code, out, errOut)
	}
	if _, _, code := run(t, "witness", "add-log", "--data", wdir, "--log-key", otherLog); code == 0 {
		t.Fatal("a witness followed the same log twice")
	}
	w := start(t, "witness", "serve", "--data", wdir, "--addr", "127.0.0.1:0")
	if out, errOut, code := run(t, "witness", "attach", "--data", data, "--url", w.url, "--vkey", wkey); code != 0 || !strings.Contains(out, "1 of 1 witnesses") {
		t.Fatalf("witness attach = %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "witness", "attach", "--data", data, "--url", w.url, "--vkey", vkey); code == 0 {
		t.Fatalf("attached a log key as a witness key: %s", errOut)
	}
	s := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	logV, _ := note.NewVerifier(vkey)
	wv, _ := fnote.NewVerifierForCosignatureV1(wkey)
	if n, err := note.Open(get(t, s.url+"/log/checkpoint"), note.VerifierList(logV, wv)); err != nil || len(n.Sigs) != 2 {
		t.Fatalf("the served checkpoint is not cosigned: %v", err)
	}
	if out, errOut, code := run(t, "audit", "--log", s.url, "--log-key", vkey, "--witness-key", wkey); code != 0 || !strings.Contains(out, "cosigned by witness.pk.example") {
		t.Fatalf("audit = %d %s %s", code, out, errOut)
	}
	// An auditor requiring a witness the log does not have alarms.
	_, other, _ := note.GenerateKey(nil, "witness.other.example")
	otherCosig, _ := fnote.VKeyToCosignatureV1(other)
	if _, errOut, code := run(t, "audit", "--log", s.url, "--log-key", vkey, "--witness-key", wkey, "--witness-key", otherCosig); code == 0 || !strings.Contains(errOut, "1 of the 2 witness cosignatures") {
		t.Fatalf("audit requiring an absent witness = %d %s", code, errOut)
	}
}

// TestExtract runs truce extract on a test article and on a page that is
// not one.
func TestExtract(t *testing.T) {
	out, errOut, code := run(t, "extract", "../../internal/extract/testdata/khyber-courier.html")
	if code != 0 || !strings.HasPrefix(out, "title: Talks in Doha end with a ceasefire framework\ndate:  2026-10-19T03:30:00Z\n") ||
		!strings.Contains(out, "four days of talks") || strings.Contains(out, "You might also like") {
		t.Fatalf("truce extract = %d %s %s", code, out, errOut)
	}
	bin := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(bin, []byte("\x00\x01binary"), 0o600)
	if _, errOut, code := run(t, "extract", bin); code == 0 || !strings.Contains(errOut, "not an HTML or text page") {
		t.Fatalf("extract of a binary file = %d %s", code, errOut)
	}
}

// truce ingest and truce discrepancies, end to end: the demo's articles
// make one disputed story of the Istanbul round; new pages and a statement
// join it or fail alone; re-ingesting is a no-op; the log still verifies.
func TestIngest(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	creds, err := demo.ReadCredentials(data)
	if err != nil {
		t.Fatal(err)
	}
	var token, keyFile string
	for _, c := range creds {
		if c.ID == "analyst" {
			token, keyFile = c.Token, c.KeyFile
		}
	}
	// The analyst grades an outlet from the command line; moving a copy
	// rather than its original is refused with what to do.
	if out, errOut, code := run(t, "grade-outlet", "--server", s.url, "--token", token, "--key", keyFile,
		"--outlet", "Khyber Courier", "--reliability", "B", "--reason", "Its reports have matched the record."); code != 0 || !strings.Contains(out, "as outlet khyber-courier") {
		t.Fatalf("truce grade-outlet = %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "move-source", "--server", s.url, "--token", token, "--key", keyFile,
		"--source", "SRC-0004", "--reason", "x"); code != 1 || !strings.Contains(errOut, "SRC-0004 is a copy of SRC-0002: move the original") {
		t.Errorf("moving a copy = %d %s", code, errOut)
	}
	out, errOut, code := run(t, "discrepancies", "--server", s.url, "--token", token)
	if code != 0 {
		t.Fatalf("truce discrepancies --server = %d %s", code, errOut)
	}
	for _, want := range []string{"duration_vs_range", "weekday_mismatch", "claimants_disagree", "“At least 23 Pakistani soldiers", "“According to the Afghan defence ministry"} {
		if !strings.Contains(out, want) {
			t.Errorf("truce discrepancies lacks %q:\n%s", want, out)
		}
	}
	if _, errOut, code := run(t, "ingest", "--data", data, filepath.Join(data, "sources")); code == 0 || !strings.Contains(errOut, "in use") {
		t.Errorf("ingesting into a served instance = %d %s", code, errOut)
	}
	s.stop(syscall.SIGTERM)

	// A statement published when the demo's articles were (they are moved
	// to the demo's calendar) joins their story.
	ledger, _ := os.ReadFile(filepath.Join(data, "sources", "kabul-ledger.html"))
	published := regexp.MustCompile(`"datePublished":"([^"]+)"`).FindSubmatch(ledger)
	if published == nil {
		t.Fatal("the demo's Kabul Ledger article has no date")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ispr.txt"), []byte("Title: Statement on the Istanbul talks\nOutlet: Inter-Services Public Relations\nPublished: "+string(published[1])+"\n\n"+
		"[FICTIONAL EXERCISE] Pakistan welcomes the agreement reached at the talks in Istanbul on a joint mechanism to monitor the ceasefire "+
		"with Afghanistan, mediated by Türkiye and Qatar. The armed forces will respond to any attack from across the border.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "scan.html"), []byte("\x00\x01\x02 not a page"), 0o644)
	out, errOut, code = run(t, "ingest", "--data", data, filepath.Join(data, "sources"), dir)
	if code != 1 || !strings.Contains(errOut, "unchanged SRC-0001") || !strings.Contains(errOut, "ingested SRC-0009 (story ST-0002") ||
		!strings.Contains(errOut, "failed: "+filepath.Join(dir, "scan.html")) || !strings.Contains(errOut, "10 read in") {
		t.Fatalf("truce ingest = %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "verify", "--data", data); code != 0 {
		t.Fatalf("truce verify after ingesting = %d %s", code, errOut)
	}
	out, _, _ = run(t, "discrepancies", "--data", data, "--story", "ST-0002", "--kind", "claimants_disagree", "--json")
	var ds []map[string]any
	if err := json.Unmarshal([]byte(out), &ds); err != nil || len(ds) != 1 || ds[0]["b"] == nil {
		t.Errorf("one kind of one story as JSON: %v %s", err, out)
	}
	if _, errOut, code := run(t, "discrepancies", "--data", data, "--kind", "rumour"); code == 0 || !strings.Contains(errOut, "must be one of") {
		t.Errorf("an unknown kind = %d %s", code, errOut)
	}

	// A watched directory: a file dropped in later is ingested on the next
	// pass; what was there before is not reported again.
	watched := t.TempDir()
	cmd := exec.Command(binary, "ingest", "--data", data, "--watch", "--interval", "100ms", watched)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for l := range lines { // the first pass, over an empty directory
		if strings.Contains(l, "0 read in") {
			break
		}
	}
	os.WriteFile(filepath.Join(watched, "later.txt"), []byte("Title: Border crossings reopen\nOutlet: Khyber Courier\nPublished: "+string(published[1])+"\n\n"+
		"[FICTIONAL EXERCISE] Traders said the Torkham crossing reopened on the morning after the talks, and the first lorries crossed by noon.\n"), 0o644)
	deadline := time.After(30 * time.Second)
	for ingested := false; !ingested; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("truce ingest --watch stopped")
			}
			ingested = strings.Contains(l, "ingested SRC-0010") && strings.Contains(l, "later.txt")
		case <-deadline:
			t.Fatal("the file dropped into the watched directory was not ingested")
		}
	}
}

// truce serve --ingest reads its sources on a schedule: a statement dropped
// into the directory appears in the API.
func TestServeIngest(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	s.stop(syscall.SIGTERM)
	creds, _ := demo.ReadCredentials(data)
	var token, keyFile string
	for _, c := range creds {
		if c.ID == "analyst" {
			token, keyFile = c.Token, c.KeyFile
		}
	}
	dir := t.TempDir()
	s = start(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--ingest", dir, "--ingest-every", "100ms")
	os.WriteFile(filepath.Join(dir, "statement.txt"), []byte("Title: Crossings\nOutlet: Afghan ministry of commerce\n\n"+
		"[FICTIONAL EXERCISE] The Torkham and Spin Boldak crossings will reopen for trade on Monday, the ministry said, after the talks in Istanbul.\n"), 0o644)
	for i := 0; ; i++ {
		req, _ := http.NewRequest("GET", s.url+"/api/v1/sources?outlet=afghan-ministry-of-commerce", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct{ Items []truce.Report }
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list.Items) == 1 && list.Items[0].Title == "Crossings" && list.Items[0].IngestedBy == truce.SystemAuthor {
			break
		}
		if i > 200 {
			t.Fatalf("the server did not ingest the statement: %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// An analyst away from the server ingests over the API, signing with
	// the analyst's own key; the same file again is found by its hash.
	away := t.TempDir()
	os.WriteFile(filepath.Join(away, "note.txt"), []byte("Title: Refugees return\nOutlet: Spin Ghar Times\n\n"+
		"[FICTIONAL EXERCISE] Families who fled the shelling near Chaman began to return on Tuesday, elders said, after the talks in Istanbul.\n"), 0o644)
	_, errOut, code := run(t, "ingest", "--server", s.url, "--token", token, "--key", keyFile, away)
	id := regexp.MustCompile(`ingested (SRC-\d+)`).FindStringSubmatch(errOut)
	if code != 0 || id == nil {
		t.Fatalf("truce ingest --server = %d %s", code, errOut)
	}
	req, _ := http.NewRequest("GET", s.url+"/api/v1/sources/"+id[1], nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Source  truce.Report
		History []truce.HistoryItem
	}
	json.NewDecoder(resp.Body).Decode(&rec)
	resp.Body.Close()
	if rec.Source.IngestedBy != "analyst" || len(rec.History) != 1 || rec.History[0].Custodial {
		t.Errorf("the remote source: %+v", rec)
	}
	if _, errOut, code := run(t, "ingest", "--server", s.url, "--token", token, away); code != 0 || !strings.Contains(errOut, "unchanged "+id[1]) {
		t.Errorf("the same file again over the API = %d %s", code, errOut)
	}
}

// TestEnrolment sets up a real instance as its secretariat would: init
// with a members file, a one-time link per member, and the member setting
// a password in the browser and signing in — on an instance where no one
// had a password before.
func TestEnrolment(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "instance")
	members := filepath.Join(dir, "members.yaml")
	yaml := "- id: af-liaison\n  name: AF Liaison Officer\n  role: liaison\n  party: AF\n  keys: []\n  custodial: true\n"
	mediatorKeys := map[string]string{}
	for _, m := range []struct{ id, party string }{{"tr-mediator", "TR"}, {"qa-mediator", "QA"}} {
		file := filepath.Join(dir, m.id+".key")
		pub, errOut, code := run(t, "key", "generate", "--out", file, "--member", m.id)
		if code != 0 {
			t.Fatalf("key generate = %d %s", code, errOut)
		}
		mediatorKeys[m.id] = file
		yaml += fmt.Sprintf("- id: %s\n  name: %s\n  role: mediator\n  party: %s\n  keys: [%q]\n", m.id, m.id, m.party, strings.TrimSpace(pub))
	}
	os.WriteFile(members, []byte(yaml), 0o600)
	if out, errOut, code := run(t, "init", "--data", data, "--origin", "truce.example.org/log", "--agreement", "../../internal/demo/agreement.yaml", "--members", members); code != 0 {
		t.Fatalf("init = %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "member", "invite", "--data", data, "--member", "nobody"); code == 0 || !strings.Contains(errOut, "no member") {
		t.Fatalf("inviting an unknown member = %d %s", code, errOut)
	}
	s := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	out, errOut, code := run(t, "member", "invite", "--data", data, "--member", "af-liaison", "--url", s.url)
	link := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(link, s.url+"/enrol/") {
		t.Fatalf("member invite = %d %s %s", code, out, errOut)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string) (int, string) {
		resp, err := browser.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, page := get(link); code != 200 || !strings.Contains(page, "af-liaison") {
		t.Fatalf("the link = %d", code)
	}
	post := func(pw, again string) *http.Response {
		resp, err := browser.PostForm(link, url.Values{"password": {pw}, "again": {again}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("short", "short"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a weak password = %d", resp.StatusCode)
	}
	if resp := post("river tractor blue lantern", "river tractor blue lanterm"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("mistyped = %d", resp.StatusCode)
	}
	resp := post("river tractor blue lantern", "river tractor blue lantern")
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("setting the password = %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", s.url+"/", nil)
	req.AddCookie(resp.Cookies()[0])
	if r, err := browser.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("the member's dashboard after enrolling = %v %v", r.StatusCode, err)
	}
	if code, _ := get(link); code != 404 {
		t.Fatalf("the link used again = %d", code)
	}
	// Signing in with the password, as any later day.
	r, err := browser.PostForm(s.url+"/signin", url.Values{"member": {"af-liaison"}, "password": {"river tractor blue lantern"}})
	if err != nil || r.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in = %v %v", r.StatusCode, err)
	}
	if out, _, code := run(t, "member", "list", "--data", data); code != 0 || !regexp.MustCompile(`af-liaison .*AF +\d+ +set`).MatchString(out) {
		t.Fatalf("member list = %d %s", code, out)
	}
	// The key the server holds for AF's liaison signs nothing until AF
	// consents: AF has no member with a key yet, so the agreement's quorum
	// of mediators enrols it.
	tok, _, _ := run(t, "token", "issue", "--data", data, "--member", "tr-mediator")
	var who struct {
		Member truce.Member `json:"member"`
	}
	if err := client.New(s.url, strings.TrimSpace(tok)).Do(context.Background(), "GET", "/api/v1/members/af-liaison", nil, &who); err != nil || len(who.Member.Keys) != 1 || !who.Member.Keys[0].Pending {
		t.Fatalf("af-liaison's key before approval: %+v %v", who.Member.Keys, err)
	}
	for _, m := range []string{"tr-mediator", "qa-mediator"} {
		mt, _, _ := run(t, "token", "issue", "--data", data, "--member", m)
		if out, errOut, code := run(t, "approve-key", "--server", s.url, "--token", strings.TrimSpace(mt), "--key", mediatorKeys[m],
			"--member", "af-liaison", "--body-key", who.Member.Keys[0].ID); code != 0 {
			t.Fatalf("%s approving = %d %s %s", m, code, out, errOut)
		}
	}
	// The member files an allegation in the browser, signed with the key
	// the server holds for it, as its members file chose; the log says so.
	session := r.Cookies()[0]
	req, _ = http.NewRequest("GET", s.url+"/act/allege", nil)
	req.AddCookie(session)
	page, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	if csrf == nil {
		t.Fatalf("the form has no CSRF token: %d", page.StatusCode)
	}
	form := url.Values{"csrf": {html.UnescapeString(csrf[1])}, "category": {"shelling_artillery_missile"}, "occurred.from": {time.Now().UTC().Add(-3 * time.Hour).Format("2006-01-02T15:04")},
		"occurred.precision": {"1"}, "place.lat": {"34.1"}, "place.lon": {"71.1"}, "place.geo_precision": {"2"}, "place.country": {"AF"},
		"place.location": {"Torkham"}, "clauses": {"no-cross-border-fire"}, "perpetrator.kind": {"party"}, "perpetrator.party": {"PK"},
		"narrative": {"Shells landed near the crossing."}, "visibility": {"parties"}}
	req, _ = http.NewRequest("POST", s.url+"/act/allege", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(session)
	filed, err := browser.Do(req)
	if err != nil || filed.StatusCode != http.StatusSeeOther || !strings.HasPrefix(filed.Header.Get("Location"), "/allegations/AL-") {
		t.Fatalf("filing in the browser = %v %v", filed.StatusCode, err)
	}
	filed.Body.Close()
	req, _ = http.NewRequest("GET", s.url+"/api/v1"+filed.Header.Get("Location"), nil)
	req.AddCookie(session)
	got, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(got.Body)
	got.Body.Close()
	if !strings.Contains(string(b), `"author":"af-liaison"`) || !strings.Contains(string(b), `"custodial":true`) {
		t.Fatalf("the allegation's history: %s", b)
	}

	// Suspended, the member has no session, no token and no password on
	// this server, and an earlier link no longer works; a new link
	// reinstates it.
	afTok, _, _ := run(t, "token", "issue", "--data", data, "--member", "af-liaison")
	spare, _, _ := run(t, "member", "invite", "--data", data, "--member", "af-liaison", "--url", s.url)
	if out, errOut, code := run(t, "member", "suspend", "--data", data, "--member", "af-liaison"); code != 0 || !strings.Contains(out, "1 tokens revoked") {
		t.Fatalf("member suspend = %d %s %s", code, out, errOut)
	}
	req, _ = http.NewRequest("GET", s.url+"/", nil)
	req.AddCookie(session)
	if r, err := browser.Do(req); err != nil || r.StatusCode == 200 {
		t.Fatalf("a suspended member's session = %v %v", r.StatusCode, err)
	}
	if err := client.New(s.url, strings.TrimSpace(afTok)).Do(context.Background(), "GET", "/api/v1/allegations", nil, nil); err == nil {
		t.Fatal("a suspended member's token still works")
	}
	if r, err := browser.PostForm(s.url+"/signin", url.Values{"member": {"af-liaison"}, "password": {"river tractor blue lantern"}}); err != nil || r.StatusCode == http.StatusSeeOther {
		t.Fatalf("a suspended member signing in = %v %v", r.StatusCode, err)
	}
	if code, _ := get(strings.TrimSpace(spare)); code != 404 {
		t.Fatalf("a link given before the suspension = %d", code)
	}
	if out, _, code := run(t, "member", "list", "--data", data); code != 0 || !regexp.MustCompile(`af-liaison .* suspended`).MatchString(out) {
		t.Fatalf("member list after suspending = %d %s", code, out)
	}
	again, _, _ := run(t, "member", "invite", "--data", data, "--member", "af-liaison", "--url", s.url)
	if resp, err := browser.PostForm(strings.TrimSpace(again), url.Values{"password": {"orchard violet canyon ferry"}, "again": {"orchard violet canyon ferry"}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reinstating by a new link = %v %v", resp.StatusCode, err)
	}
}

// The README's walk-through, as written: its shell block run by bash in a
// directory with a fresh demo serving beside it and truce on the PATH.
// Every command must succeed and name the ids the README says it gives.
func TestReadmeWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## One allegation, from filing to consequence")
	_, block, ok2 := strings.Cut(after, "```sh\n")
	script, _, ok3 := strings.Cut(block, "```")
	// Then the receipt of the finding, checked against the witnesses' keys.
	_, after, ok4 := strings.Cut(after, "**Receipts.**")
	_, block, ok5 := strings.Cut(after, "```sh\n")
	receipt, _, ok6 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		t.Fatal("the README lacks the walk-through or the receipt block")
	}
	script += receipt
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl, which the walk-through uses, is missing")
		}
		t.Skip("curl, which the walk-through uses, is not installed")
	}
	dir := t.TempDir()
	start(t, "demo", "--data", filepath.Join(dir, "truce-demo"), "--addr", "127.0.0.1:0")
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(bin, "truce")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-eu", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s", err, out)
	}
	// The ids the README's comments promise are those the commands gave.
	t.Logf("%s", out)
	if !regexp.MustCompile(`ok: finding FD-\d{4} rests on \d+ entries .* cosigned by witness\.pk\.[^ ]*, witness\.af\.`).Match(out) {
		t.Errorf("the receipt was not checked against both witnesses:\n%s", out)
	}
	for _, id := range regexp.MustCompile(`(?:as allegation|→) ([A-Z]{2}-\d{4})`).FindAllStringSubmatch(script, -1) {
		if !strings.Contains(string(out), id[1]) {
			t.Errorf("the walk-through promises %s; the commands said:\n%s", id[1], out)
		}
	}
}
