package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/agreement"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
)

// verb is a CLI command that signs one kind of entry. Its flags are the
// body's fields, named after their JSON names.
type verb struct {
	name, kind, summary string
	body                any // a zero body of the kind
}

var verbs = []verb{
	{"reply", rules.KindReplyFiled, "reply to an allegation against your party", truce.Reply{}},
	{"admit", rules.KindAllegationAdmitted, "admit an allegation for verification (mediator)", truce.Admission{}},
	{"reject", rules.KindAllegationRejected, "reject an allegation: out_of_scope, duplicate, unfounded (mediator)", truce.Rejection{}},
	{"open-case", rules.KindCaseOpened, "open a verification case on an admitted allegation (mediator)", truce.CaseOpening{}},
	{"assign-task", rules.KindTaskAssigned, "assign a task in a case (mediator)", truce.TaskAssignment{}},
	{"complete-task", rules.KindTaskCompleted, "complete a task assigned to you", truce.TaskResult{}},
	{"register-evidence", rules.KindEvidenceRegistered, "register evidence by its SHA-256", truce.EvidenceRegistration{}},
	{"custody", rules.KindEvidenceCustody, "record a custody event of evidence", truce.CustodyEvent{}},
	{"propose-finding", rules.KindFindingProposed, "propose a finding on a case (mediator)", truce.FindingProposal{}},
	{"sign-finding", rules.KindFindingSigned, "sign a finding; --concur=false records dissent (mediator)", truce.FindingSignature{}},
	{"object", rules.KindFindingObjected, "object to a finding in effect (party)", truce.FindingObjection{}},
	{"fulfil", rules.KindConsequenceFulfilled, "confirm a consequence fulfilled (mediator)", truce.ConsequenceDecision{}},
	{"waive", rules.KindConsequenceWaived, "waive a consequence, with reasons (mediator)", truce.ConsequenceDecision{}},
	{"update-commitment", rules.KindCommitmentUpdated, "mark a talks commitment done or open", truce.CommitmentUpdate{}},
	{"propose-amendment", rules.KindAmendmentProposed, "propose an amended agreement (--agreement FILE)", truce.AmendmentProposal{}},
	{"sign-amendment", rules.KindAmendmentSigned, "sign a proposed amendment for your party", truce.AmendmentSignature{}},
	{"grade-outlet", rules.KindOutletGraded, "grade an outlet's reliability, A to F, with the reason (analyst, mediator)", truce.OutletGrading{}},
	{"link-source", rules.KindSourceLinked, "tie a source or story to an allegation or case: corroborates, contradicts, context", truce.SourceLink{}},
	{"move-source", rules.KindSourceMoved, "move a wrongly grouped source and its copies to another story, or one of its own (analyst, mediator)", truce.SourceMove{}},
	{"register-member", rules.KindMemberRegistered, "register a member with its public keys (administrator)", rules.MemberRegistration{}},
	{"add-key", rules.KindKeyAdded, "add a signing key to a member: your own, or any as administrator", rules.KeyAddition{}},
	{"revoke-key", rules.KindKeyRevoked, "revoke a member's key: entries it signs later are refused", rules.KeyRevocation{}},
	{"approve-key", rules.KindKeyApproved, "approve a key someone else added to a member of your party (or, enrolling a party, as a mediator)", rules.KeyApproval{}},
}

func init() {
	for _, v := range verbs {
		commands = append(commands, command{v.name, "--key FILE (--server URL | --out FILE) --FIELD VALUE...", v.summary,
			func(e *env, args []string) error { return runVerb(e, v, args) }})
	}
}

func runVerb(e *env, v verb, args []string) error {
	fs := e.flags(v.name)
	var s signer
	s.register(fs)
	bodyFile := fs.String("body", "", "JSON file with the whole body (instead of the field flags)")
	body := reflect.New(reflect.TypeOf(v.body))
	var opening *truce.Opening
	finish := bindFields(fs, body.Elem(), "", &opening)
	var file string
	if ev, ok := body.Interface().(*truce.EvidenceRegistration); ok {
		fs.StringVar(&file, "file", "", "the evidence file: sets sha256, size and media type")
		finish = append(finish, func() error { return describeFile(file, ev) })
	}
	if ka, ok := body.Interface().(*rules.KeyAddition); ok {
		var newKey string
		fs.StringVar(&newKey, "new-key", "", "the new key's file (truce key generate): sets the key and its proof of possession")
		s.prepare = func(origin string) error {
			if newKey == "" {
				return nil // --body-key and --proof given as they are
			}
			k, err := entry.ReadKeyFile(newKey)
			if err != nil {
				return err
			}
			ka.Key, ka.Proof = k.PublicKey(), k.ProvePossession(origin, ka.Member)
			return nil
		}
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, f := range finish {
		if err := f(); err != nil {
			return err
		}
	}
	if *bodyFile != "" {
		raw, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		return s.sign(e, v.kind, json.RawMessage(raw), nil)
	}
	return s.sign(e, v.kind, body.Interface(), opening)
}

// bindFields registers a flag for each field of the struct v, named by its
// JSON name with dashes (nested structs prefixed: --place-lat). The
// returned functions finish the body once the flags are parsed.
func bindFields(fs *flag.FlagSet, v reflect.Value, prefix string, opening **truce.Opening) (finish []func() error) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		name = prefix + strings.ReplaceAll(name, "_", "-")
		if fs.Lookup(name) != nil {
			// A body field named as one of the signer's flags (add-key's
			// public key beside --key, the signing key file).
			name = "body-" + name
		}
		fv := v.Field(i)
		switch f.Type {
		case reflect.TypeOf(truce.Agreement{}):
			fs.Func(name, "the amended agreement file (YAML)", func(path string) error {
				raw, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				a, err := agreement.Parse(raw)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				fv.Set(reflect.ValueOf(*a))
				return nil
			})
			continue
		case reflect.TypeOf(&truce.Sealed{}):
			fs.Func(name, "JSON file of details to keep out of the log, shown only to the mechanism and your party", func(path string) error {
				sealed, o, err := sealFile(path)
				if err != nil {
					return err
				}
				fv.Set(reflect.ValueOf(sealed))
				*opening = o
				return nil
			})
			continue
		case reflect.TypeOf(&truce.Place{}):
			place := reflect.New(f.Type.Elem())
			finish = append(finish, bindFields(fs, place.Elem(), name+"-", opening)...)
			// The place is sent only if one of its flags was given.
			finish = append(finish, func() error {
				if !place.Elem().IsZero() {
					fv.Set(place)
				}
				return nil
			})
			continue
		}
		fs.Var(fieldValue{fv}, name, f.Name)
	}
	return finish
}

// describeFile fills in what registering an evidence file needs from the
// file itself.
func describeFile(path string, ev *truce.EvidenceRegistration) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	h.Write(head[:n])
	rest, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	ev.SHA256, ev.Size = hex.EncodeToString(h.Sum(nil)), int64(n)+rest
	if ev.MediaType == "" {
		ev.MediaType = mime.TypeByExtension(filepath.Ext(path))
		if ev.MediaType == "" {
			ev.MediaType = http.DetectContentType(head[:n])
		}
		ev.MediaType, _, _ = mime.ParseMediaType(ev.MediaType)
	}
	return nil
}

// fieldValue sets a struct field from a flag.
type fieldValue struct{ v reflect.Value }

func (f fieldValue) String() string {
	if !f.v.IsValid() || f.v.IsZero() {
		return ""
	}
	return fmt.Sprint(f.v.Interface())
}

func (f fieldValue) IsBoolFlag() bool { return f.v.IsValid() && f.v.Kind() == reflect.Bool }

func (f fieldValue) Set(s string) error {
	switch f.v.Interface().(type) {
	case time.Time:
		t, err := parseTime(s)
		if err != nil {
			return err
		}
		f.v.Set(reflect.ValueOf(t))
		return nil
	case []string:
		var l listFlag
		l.Set(s)
		f.v.Set(reflect.AppendSlice(f.v, reflect.ValueOf([]string(l))))
		return nil
	}
	switch f.v.Kind() {
	case reflect.String:
		f.v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		f.v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		f.v.SetFloat(x)
	default:
		return fmt.Errorf("cannot set a %s from a flag", f.v.Type())
	}
	return nil
}
