// Package demo lays down the exercise instance: a fortnight of a ceasefire
// on the Pakistan–Afghanistan border, with members of every role, the
// agreement, and allegations from both sides. Everything in it is EXERCISE
// DATA: fictional people, fictional incidents at real places.
//
// The scenario is written with the sequencer's clock set back, so that its
// fortnight ends at the moment the demo is created and every deadline in it
// falls in log time exactly as it would have.
package demo

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/agreement"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/clock"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/sequencer"
)

// sourceFiles are fictional outlets' reports of the talks, with planted
// disagreements, boilerplate and copies, for the open-source view.
//
//go:embed sources/*.html
var sourceFiles embed.FS

//go:embed agreement.yaml
var agreementYAML []byte

// Origin is the demo log's origin.
const Origin = "exercise.truce.example/pk-af"

// CredentialsFile is written into the data directory.
const CredentialsFile = "demo-credentials.json"

// Credential is one demo member's way in.
type Credential struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Role     truce.Role `json:"role"`
	Party    string     `json:"party"`
	Password string     `json:"password"`
	Token    string     `json:"token"`
	KeyFile  string     `json:"key_file"`
}

// Members of the exercise. The names are fictional.
var Members = []instance.Member{
	{ID: "pk-liaison", Name: "Maj. Ayesha Siddiqui (PK liaison, exercise)", Role: truce.RoleLiaison, Party: "PK"},
	{ID: "pk-liaison-2", Name: "Capt. Bilal Anwar (PK liaison, exercise)", Role: truce.RoleLiaison, Party: "PK"},
	{ID: "af-liaison", Name: "Mawlawi Abdul Hadi (AF liaison, exercise)", Role: truce.RoleLiaison, Party: "AF"},
	{ID: "af-liaison-2", Name: "Qari Noor Ahmad (AF liaison, exercise)", Role: truce.RoleLiaison, Party: "AF"},
	{ID: "tr-mediator", Name: "Amb. Emre Kaya (TR mediator, exercise)", Role: truce.RoleMediator, Party: "TR"},
	{ID: "qa-mediator", Name: "Dr. Khalid Al-Marri (QA mediator, exercise)", Role: truce.RoleMediator, Party: "QA"},
	{ID: "monitor", Name: "Field Monitoring Team 1 (exercise)", Role: truce.RoleMonitor, Party: truce.Mechanism},
	{ID: "analyst", Name: "Open-Source Analyst (exercise)", Role: truce.RoleAnalyst, Party: truce.Mechanism},
	{ID: "admin", Name: "Secretariat Administrator (exercise)", Role: truce.RoleAdmin, Party: truce.Mechanism},
	{ID: "observer", Name: "Press Observer (exercise)", Role: truce.RolePublic, Party: truce.Mechanism},
}

// Agreement returns the exercise agreement.
func Agreement() (*truce.Agreement, error) { return agreement.Parse(agreementYAML) }

// Create makes the exercise instance in dir with the scenario's fortnight
// ending at now, and writes the credentials file.
func Create(ctx context.Context, dir string, now time.Time, o instance.Options) ([]Credential, error) {
	ag, err := Agreement()
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Minute)
	start := now.Add(-14 * 24 * time.Hour)
	// The file's fortnight begins the day after the agreement took effect.
	shiftDates(ag, start.Sub(ag.Effective.Add(24*time.Hour)))
	clk := clock.New(start)
	keyDir := filepath.Join(dir, "keys", "members")
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		return nil, err
	}
	keys := map[string]*entry.PrivateKey{}
	var members []instance.Member
	for _, m := range Members {
		k, err := entry.GenerateKey(m.ID)
		if err != nil {
			return nil, err
		}
		if err := entry.WriteKeyFile(filepath.Join(keyDir, m.ID+".key"), k); err != nil {
			return nil, err
		}
		keys[m.ID] = k
		m.PublicKeys, m.Custodial = []string{k.PublicKey()}, true // the CLI key file, and one for the browser
		members = append(members, m)
	}
	err = instance.Init(ctx, dir, instance.InitOptions{
		Origin: Origin, Name: "EXERCISE — Pakistan–Afghanistan ceasefire monitoring (training instance)",
		Exercise: true, Agreement: ag, Members: members, Clock: clk.Now, Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	o.Clock = clk.Now
	in, err := instance.Open(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	// Each party's liaisons' keys are theirs once the mediators enrol the
	// party and the party approves its members' keys.
	if err := in.ApprovePending(ctx, keys, clk.Now); err != nil {
		return nil, fmt.Errorf("enrolment: %w", err)
	}
	sc := &scenario{in: in, keys: keys, clock: clk, start: start, end: now, seqs: map[string]uint64{}, ids: map[string]string{}}
	for id := range keys {
		sc.seqs[id] = in.Seq.Snapshot().Seq(id) // the approvals used some
	}
	if err := sc.run(ctx); err != nil {
		return nil, err
	}
	if err := sc.openSources(ctx, dir); err != nil {
		return nil, fmt.Errorf("open-source reports: %w", err)
	}
	var creds []Credential
	for _, m := range Members {
		tok, _, err := auth.IssueToken(ctx, in.Store, auth.TokenSpec{Member: m.ID, Name: "demo", Scopes: policy.AllScopes}, now)
		if err != nil {
			return nil, err
		}
		pw := auth.NewPassword()
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return nil, err
		}
		if err := in.Store.PutPassword(ctx, m.ID, hash); err != nil {
			return nil, err
		}
		abs, _ := filepath.Abs(filepath.Join(keyDir, m.ID+".key"))
		creds = append(creds, Credential{ID: m.ID, Name: m.Name, Role: m.Role, Party: m.Party, Password: pw, Token: tok, KeyFile: abs})
	}
	b, _ := json.MarshalIndent(creds, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, CredentialsFile), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return creds, nil
}

// ReadCredentials reads the credentials file of a demo instance.
func ReadCredentials(dir string) ([]Credential, error) {
	b, err := os.ReadFile(filepath.Join(dir, CredentialsFile))
	if err != nil {
		return nil, err
	}
	var creds []Credential
	return creds, json.Unmarshal(b, &creds)
}

// scenario signs and submits the exercise's entries in order.
type scenario struct {
	in    *instance.Instance
	keys  map[string]*entry.PrivateKey
	clock *clock.Settable
	start time.Time
	end   time.Time
	seqs  map[string]uint64
	ids   map[string]string // scenario keys → record ids
	err   error
	// opening is the sealed content of the entry being made, if any.
	opening *truce.Opening
}

// seal seals content for the entry being made and returns its commitment.
func (s *scenario) seal(content string) *truce.Sealed {
	salt := make([]byte, 32)
	rand.Read(salt)
	s.opening = &truce.Opening{Salt: hex.EncodeToString(salt), Content: []byte(content)}
	return &truce.Sealed{Commitment: truce.Commit(salt, []byte(content))}
}

// at sets log time to the scenario's start plus d.
func (s *scenario) at(d time.Duration) { s.clock.Set(s.start.Add(d)) }

// submit signs body as kind by member and logs it.
func (s *scenario) submit(ctx context.Context, member, kind string, body any) (*truce.Ack, error) {
	s.seqs[member]++
	env, opening, err := sequencer.SignSealing(kind, Origin, member, s.seqs[member], s.clock.Now(), body, s.keys[member], s.in.Seq.Seer(ctx))
	if err != nil {
		return nil, err
	}
	field := s.opening
	s.opening = nil
	ack, err := s.in.Seq.Submit(ctx, env, opening, field)
	if err != nil {
		return nil, fmt.Errorf("scenario: %s by %s: %w", kind, member, err)
	}
	return ack, nil
}
