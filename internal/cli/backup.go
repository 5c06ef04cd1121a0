package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/truce-mvm/truce/internal/backup"
)

func cmdBackup(e *env, args []string) error {
	if len(args) > 0 && args[0] == "key" {
		return cmdBackupKey(e, args[1:])
	}
	fs := e.flags("backup")
	data := fs.String("data", "", "data directory of the instance (it may be serving)")
	db := dbFlag(fs, "")
	out := fs.String("out", "", "the backup file to write (must not exist)")
	passFile := fs.String("passphrase-file", "", "encrypt with the passphrase in this file (age scrypt)")
	var recipients listFlag
	fs.Var(&recipients, "recipient", "encrypt to this age public key, age1… (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "out"); err != nil {
		return err
	}
	o := backup.Options{Dir: *data, DB: *db, Logger: e.log}
	switch {
	case (*passFile == "") == (len(recipients) == 0):
		fmt.Fprintln(e.stderr, "truce backup: give --passphrase-file or --recipient (one of them): the backup is encrypted")
		return errUsage
	case *passFile != "":
		pass, err := readPassphrase(*passFile)
		if err != nil {
			return err
		}
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			return err
		}
		o.Recipients, o.Encryption = []age.Recipient{r}, "age, with a passphrase (scrypt)"
	default:
		rs, err := age.ParseRecipients(strings.NewReader(strings.Join(recipients, "\n")))
		if err != nil {
			return fmt.Errorf("--recipient: %w", err)
		}
		o.Recipients, o.Encryption = rs, fmt.Sprintf("age, to %s", strings.Join(recipients, ", "))
	}
	m, err := backup.Create(e.ctx, *out, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup of %s written to %s: %s store, %d entries (newest checkpoint: %s), %s, keys and all parts encrypted (%s)\n",
		m.Origin, *out, m.Store, m.TreeSize, checkpointSize(m), evidence(m), m.Encryption)
	return nil
}

func cmdRestore(e *env, args []string) error {
	fs := e.flags("restore")
	in := fs.String("in", "", "the backup file")
	data := fs.String("data", "", "the new data directory to restore into (absent or empty)")
	db := fs.String("db", "", "for a backup of an instance on PostgreSQL: the database (postgres://…) whose schema, empty, receives it")
	passFile := fs.String("passphrase-file", "", "the backup's passphrase, in this file")
	var identities listFlag
	fs.Var(&identities, "identity", "an age identity file (AGE-SECRET-KEY-1…) that opens the backup (repeatable)")
	check := fs.Bool("check", false, "only read the backup through and check it (decryption, every part's SHA-256, the checkpoint against the log key); write nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	need := []string{"in"}
	if !*check {
		need = append(need, "data")
	}
	if err := required(fs, need...); err != nil {
		return err
	}
	var ids []age.Identity
	if *passFile != "" {
		pass, err := readPassphrase(*passFile)
		if err != nil {
			return err
		}
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	for _, path := range identities {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		got, err := age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		ids = append(ids, got...)
	}
	if len(ids) == 0 {
		fmt.Fprintln(e.stderr, "truce restore: give --passphrase-file or --identity: the backup is encrypted")
		return errUsage
	}
	if *check {
		m, err := backup.Check(e.ctx, *in, ids)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "ok: backup of %s (%s store, log key %s), %d entries, newest checkpoint %s, %d parts match their SHA-256\n",
			m.Origin, m.Store, m.LogKey, m.TreeSize, checkpointSize(m), len(m.Parts))
		return nil
	}
	m, err := backup.Restore(e.ctx, *in, backup.RestoreOptions{Dir: *data, DB: *db, Identities: ids, Logger: e.log})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s into %s: %d entries, newest checkpoint %s verified with %s, %s\n",
		m.Origin, *data, m.TreeSize, checkpointSize(m), m.LogKey, evidence(m))
	fmt.Fprintf(e.stdout, "next: truce verify --data %s and truce replay --data %s; serve it only in place of the instance it copies, once that one is stopped for good (beside it, it would sign a fork of its log)\n", *data, *data)
	return nil
}

func cmdExportLog(e *env, args []string) error {
	fs := e.flags("export-log")
	fs.String("data", "", "data directory (the instance may be serving)")
	dbFlag(fs, "")
	out := fs.String("out", "", "directory to write the log's files into (new, or an earlier export of this log to bring up to date)")
	in, err := openStore(e, fs, args, "out")
	if err != nil {
		return err
	}
	defer in.Close()
	ex, err := backup.ExportLog(e.ctx, in, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported %s to %s: %d entries, root %s; %d tiles and bundles (%d new)\n", in.Origin, *out, ex.Size, ex.Root, ex.Tiles, ex.Written)
	return nil
}

// readPassphrase reads a passphrase file: its content without the final
// line break.
func readPassphrase(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pass == "" {
		return "", errors.New(path + " holds no passphrase")
	}
	return pass, nil
}

// checkpointSize says how many entries the backup's checkpoint covers.
func checkpointSize(m *backup.Manifest) string {
	lines := strings.SplitN(m.Checkpoint, "\n", 3)
	if len(lines) < 2 {
		return "none"
	}
	return "of " + lines[1] + " entries"
}

// evidence says what the backup holds of the evidence files: parts of
// their own (DIR/blobs), or, on PostgreSQL, rows of the database's tables,
// which the manifest does not count.
func evidence(m *backup.Manifest) string {
	n := 0
	for _, p := range m.Parts {
		if strings.HasPrefix(p.Name, "blobs/") {
			n++
		}
	}
	switch {
	case m.Store != backup.StorePostgres:
		return fmt.Sprintf("%d evidence files", n)
	case n > 0:
		return fmt.Sprintf("the evidence files in the database's tables, and %d in DIR/blobs", n)
	}
	return "the evidence files in the database's tables"
}

// cmdBackupKey makes an age identity to encrypt backups to: the file
// (kept apart from the backups, mode 0600) opens them, and the recipient
// it prints, given to truce backup --recipient, encrypts to it.
func cmdBackupKey(e *env, args []string) error {
	fs := e.flags("backup key")
	out := fs.String("out", "", "the identity file to write (must not exist)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "# public key: %s\n%s\n", id.Recipient(), id); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, id.Recipient())
	return nil
}
