// Package instance lays out and opens a Truce data directory:
//
//	DIR/truce.db         the database (log and projections)
//	DIR/keys/log.key     the checkpoint signing key (signed-note format)
//	DIR/keys/system.key  the system author's entry signing key
//
// Keys are files readable only by their owner; nothing secret is in the
// database or the log.
package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/tlog"
)

// File names within a data directory.
const (
	DBFile        = "truce.db"
	LogKeyFile    = "keys/log.key"
	SystemKeyFile = "keys/system.key"
)

// Meta keys.
const (
	MetaOrigin = "origin"
	MetaVKey   = "log_vkey"
)

// Member is a member to register at init.
type Member struct {
	ID, Name   string
	Role       truce.Role
	Party      string
	PublicKeys []string
}

// InitOptions describe a new instance.
type InitOptions struct {
	Origin    string
	Name      string
	Exercise  bool
	Agreement *truce.Agreement
	Members   []Member
	Clock     func() time.Time
	Logger    *slog.Logger
}

// Options configure Open.
type Options struct {
	Clock              func() time.Time
	Logger             *slog.Logger
	Migrate            bool
	CheckpointInterval time.Duration
	// StoreOptions are passed to the SQLite store (crash tests).
	StoreOptions sqlite.Options
}

// Instance is an open data directory.
type Instance struct {
	Dir      string
	Origin   string
	VKey     string
	Verifier note.Verifier
	Store    store.Store
	Seq      *sequencer.Sequencer
}

// Exists reports whether dir holds an instance.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, DBFile))
	return err == nil
}

// Init creates an instance in dir: keys, database, and the first entries
// of its log (the instance, its agreement, its members), signed by the
// system key.
func Init(ctx context.Context, dir string, o InitOptions) error {
	if Exists(dir) {
		return fmt.Errorf("%s already holds an instance", dir)
	}
	if o.Agreement == nil {
		return errors.New("an agreement is required")
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return err
	}
	skey, vkey, err := tlog.GenerateLogKey(o.Origin)
	if err != nil {
		return fmt.Errorf("origin %q: %w", o.Origin, err)
	}
	if err := writeSecret(filepath.Join(dir, LogKeyFile), []byte(skey+"\n")); err != nil {
		return err
	}
	sys, err := entry.GenerateKey(truce.SystemAuthor)
	if err != nil {
		return err
	}
	if err := entry.WriteKeyFile(filepath.Join(dir, SystemKeyFile), sys); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, DBFile), sqlite.Options{Migrate: true})
	if err != nil {
		return err
	}
	if err := db.SetMeta(ctx, MetaOrigin, o.Origin); err == nil {
		err = db.SetMeta(ctx, MetaVKey, vkey)
	}
	db.Close()
	if err != nil {
		return err
	}
	in, err := Open(ctx, dir, Options{Clock: o.Clock, Logger: o.Logger})
	if err != nil {
		return err
	}
	defer in.Close()
	name := o.Name
	if name == "" {
		name = o.Agreement.Title
	}
	steps := []struct {
		kind string
		body any
	}{
		{rules.KindInstanceCreated, rules.Instance{Origin: o.Origin, Name: name, Exercise: o.Exercise, SystemKey: sys.PublicKey(), LogKey: vkey}},
		{rules.KindAgreementAdopted, o.Agreement},
	}
	for _, m := range o.Members {
		steps = append(steps, struct {
			kind string
			body any
		}{rules.KindMemberRegistered, rules.MemberRegistration{ID: m.ID, Name: m.Name, Role: m.Role, Party: m.Party, Keys: m.PublicKeys}})
	}
	for _, st := range steps {
		if _, err := in.Seq.SubmitSystem(ctx, st.kind, st.body); err != nil {
			return fmt.Errorf("%s: %w", st.kind, err)
		}
	}
	return nil
}

// Open opens the instance in dir and starts its sequencer.
func Open(ctx context.Context, dir string, o Options) (*Instance, error) {
	if !Exists(dir) {
		return nil, fmt.Errorf("%s holds no instance (run truce init)", dir)
	}
	so := o.StoreOptions
	so.Migrate = so.Migrate || o.Migrate
	db, err := sqlite.Open(ctx, filepath.Join(dir, DBFile), so)
	if err != nil {
		return nil, err
	}
	in, err := open(ctx, dir, db, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	return in, nil
}

func open(ctx context.Context, dir string, db store.Store, o Options) (*Instance, error) {
	in := &Instance{Dir: dir, Store: db}
	var err error
	if in.Origin, err = db.Meta(ctx, MetaOrigin); err != nil {
		return nil, fmt.Errorf("reading origin: %w", err)
	}
	if in.VKey, err = db.Meta(ctx, MetaVKey); err != nil {
		return nil, fmt.Errorf("reading log key: %w", err)
	}
	if in.Verifier, err = note.NewVerifier(in.VKey); err != nil {
		return nil, err
	}
	skey, err := os.ReadFile(filepath.Join(dir, LogKeyFile))
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", LogKeyFile, err)
	}
	if signer.Name() != in.Origin || signer.KeyHash() != in.Verifier.KeyHash() {
		return nil, fmt.Errorf("%s does not match the log's verifier key", LogKeyFile)
	}
	sys, err := entry.ReadKeyFile(filepath.Join(dir, SystemKeyFile))
	if err != nil {
		return nil, err
	}
	in.Seq, err = sequencer.Open(ctx, sequencer.Config{
		Store: db, LogKey: signer, System: sys, Clock: o.Clock, Logger: o.Logger,
		CheckpointInterval: o.CheckpointInterval,
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// Close stops the sequencer and closes the database.
func (in *Instance) Close() error {
	if in.Seq != nil {
		in.Seq.Close()
	}
	return in.Store.Close()
}

func writeSecret(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
