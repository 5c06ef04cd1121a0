package rules

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
)

// Entry kinds.
const (
	KindInstanceCreated  = "instance.created"
	KindMemberRegistered = "member.registered"
	KindKeyAdded         = "key.added"
	KindKeyRevoked       = "key.revoked"
	KindKeyApproved      = "key.approved"
	KindAgreementAdopted = "agreement.adopted"
	KindAllegationFiled  = "allegation.filed"
)

// kind is the rule set of one entry kind.
type kind struct {
	roles  []truce.Role // who may sign it
	decode func(body []byte) (any, error)
	apply  func(s *State, c *applyCtx, body any) error
}

func (k *kind) allows(r truce.Role) bool { return slices.Contains(k.roles, r) }

// Who signs what.
var (
	system     = []truce.Role{truce.RoleSystem}
	mediators  = []truce.Role{truce.RoleMediator}
	liaisons   = []truce.Role{truce.RoleLiaison}
	signatory  = []truce.Role{truce.RoleLiaison, truce.RoleMediator}
	fieldwork  = []truce.Role{truce.RoleMonitor, truce.RoleAnalyst, truce.RoleMediator}
	evidential = []truce.Role{truce.RoleMonitor, truce.RoleAnalyst, truce.RoleMediator, truce.RoleLiaison}
	keepers    = []truce.Role{truce.RoleMediator, truce.RoleAdmin}
	registrars = []truce.Role{truce.RoleSystem, truce.RoleAdmin}
	anyone     = []truce.Role{truce.RoleSystem, truce.RoleAdmin, truce.RoleLiaison, truce.RoleMediator, truce.RoleMonitor, truce.RoleAnalyst, truce.RolePublic}
)

// kinds is the rule table: every entry kind, who may sign it, how its body
// is checked alone and what it does to the state.
var kinds = map[string]*kind{
	KindInstanceCreated:      {system, decodeAs[Instance](checkInstance), applyInstance},
	KindMemberRegistered:     {registrars, decodeAs[MemberRegistration](checkMember), applyMember},
	KindKeyAdded:             {anyone, decodeAs[KeyAddition](checkKeyAddition), applyKeyAddition},
	KindKeyRevoked:           {anyone, decodeAs[KeyRevocation](checkKeyRevocation), applyKeyRevocation},
	KindKeyApproved:          {signatory, decodeAs[KeyApproval](checkKeyApproval), applyKeyApproval},
	KindAgreementAdopted:     {system, decodeAs[truce.Agreement](validateAgreementBody), applyAgreement},
	KindTick:                 {system, decodeAs[Tick](func(*Tick) error { return nil }), applyTick},
	KindRulesAdopted:         {system, decodeAs[RulesAdoption](checkRulesAdoption), applyRulesAdoption},
	KindAllegationFiled:      {[]truce.Role{truce.RoleLiaison, truce.RoleMonitor}, decodeAs[truce.AllegationFiling](checkAllegation), applyAllegation},
	KindReplyFiled:           {liaisons, decodeAs[truce.Reply](checkReply), applyReply},
	KindAllegationAdmitted:   {mediators, decodeAs[truce.Admission](checkAdmission), applyAdmission},
	KindAllegationRejected:   {mediators, decodeAs[truce.Rejection](checkRejection), applyRejection},
	KindCaseOpened:           {mediators, decodeAs[truce.CaseOpening](checkCase), applyCase},
	KindTaskAssigned:         {mediators, decodeAs[truce.TaskAssignment](checkTask), applyTask},
	KindTaskCompleted:        {fieldwork, decodeAs[truce.TaskResult](checkTaskResult), applyTaskResult},
	KindEvidenceRegistered:   {evidential, decodeAs[truce.EvidenceRegistration](checkEvidenceRegistration), applyEvidence},
	KindEvidenceCustody:      {fieldwork, decodeAs[truce.CustodyEvent](checkCustody), applyCustody},
	KindFindingProposed:      {mediators, decodeAs[truce.FindingProposal](checkFinding), applyFinding},
	KindFindingSigned:        {mediators, decodeAs[truce.FindingSignature](checkFindingSignature), applyFindingSignature},
	KindFindingObjected:      {liaisons, decodeAs[truce.FindingObjection](checkObjection), applyObjection},
	KindConsequenceFulfilled: {mediators, decodeAs[truce.ConsequenceDecision](checkConsequenceDecision), applyConsequence(false)},
	KindConsequenceWaived:    {mediators, decodeAs[truce.ConsequenceDecision](checkConsequenceDecision), applyConsequence(true)},
	KindCommitmentUpdated:    {keepers, decodeAs[truce.CommitmentUpdate](checkCommitmentUpdate), applyCommitmentUpdate},
	KindAmendmentProposed:    {signatory, decodeAs[truce.AmendmentProposal](checkAmendment), applyAmendmentProposal},
	KindSourceIngested:       {ingesters, decodeAs[truce.SourceIngestion](checkSource), applySource},
	KindOutletGraded:         {analysts, decodeAs[truce.OutletGrading](checkOutletGrading), applyOutletGrading},
	KindSourceLinked:         {linkers, decodeAs[truce.SourceLink](checkSourceLink), applySourceLink},
	KindSourceMoved:          {analysts, decodeAs[truce.SourceMove](checkSourceMove), applySourceMove},
	KindReportPublished:      {mediators, decodeAs[ReportPublication](checkReportPublication), applyReportPublication},
	KindAmendmentSigned:      {signatory, decodeAs[truce.AmendmentSignature](func(*truce.AmendmentSignature) error { return nil }), applyAmendmentSignature},
}

// Kinds lists the entry kinds, sorted.
func Kinds() []string { return sortedKeys(kinds) }

// Roles lists the roles that may sign a kind.
func Roles(kind string) []truce.Role {
	if k, ok := kinds[kind]; ok {
		return slices.Clone(k.roles)
	}
	return nil
}

// decodeAs returns a decoder that strictly decodes a body into T and runs
// the stateless check.
func decodeAs[T any](check func(*T) error) func([]byte) (any, error) {
	return func(b []byte) (any, error) {
		v := new(T)
		if err := entry.DecodeBody(b, v); err != nil {
			return nil, err
		}
		if err := check(v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var (
	idPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	codePattern   = regexp.MustCompile(`^[A-Z]{2,8}$`)
	originPattern = regexp.MustCompile(`^[a-z0-9.-]+(/[A-Za-z0-9._~-]+)*$`)
)

// text checks a free-text field: valid UTF-8, no control characters but
// line breaks and tabs, at most max runes, present if required.
func text(field, s string, max int, required bool) error {
	if !utf8.ValidString(s) {
		return truce.FieldErrorf(truce.CodeInvalid, field, "is not valid UTF-8")
	}
	if required && s == "" {
		return truce.FieldErrorf(truce.CodeInvalid, field, "is required")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return truce.FieldErrorf(truce.CodeInvalid, field, "is %d characters long, the limit is %d", n, max)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return truce.FieldErrorf(truce.CodeInvalid, field, "contains a control character")
		}
	}
	return nil
}

// --- instance.created: the first entry, signed by the system key it declares.

func checkInstance(in *Instance) error {
	if len(in.Origin) > 200 || !originPattern.MatchString(in.Origin) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.origin", "must look like host/path, e.g. truce.example/log")
	}
	if err := text("body.name", in.Name, 200, true); err != nil {
		return err
	}
	if _, err := entry.ParsePublicKey(in.SystemKey); err != nil {
		return truce.FieldErrorf(truce.CodeInvalid, "body.system_key", "%v", err)
	}
	if in.LogKey == "" {
		return truce.FieldErrorf(truce.CodeInvalid, "body.log_key", "is required")
	}
	return nil
}

func applyInstance(s *State, c *applyCtx, body any) error {
	in := body.(*Instance)
	if s.Instance != nil {
		return truce.Errorf(truce.CodeConflict, "the instance already exists")
	}
	p := c.entry.Payload
	if p.Author != truce.SystemAuthor || p.Origin != in.Origin {
		return truce.Errorf(truce.CodeInvalid, "%s must be signed by %q for its own origin", KindInstanceCreated, truce.SystemAuthor)
	}
	pub, _ := entry.ParsePublicKey(in.SystemKey)
	if c.entry.KeyID() != pub.ID {
		return truce.FieldErrorf(truce.CodeUnknownAuthor, "signatures[0].keyid", "must be the declared system key")
	}
	v, err := version(max(in.Rules, 1), "body.rules")
	if err != nil {
		return err
	}
	s.setVersion(max(in.Rules, 1), v)
	s.Instance = in
	s.members[truce.SystemAuthor] = &truce.Member{
		ID: truce.SystemAuthor, Name: in.Name + " (system)", Role: truce.RoleSystem, Party: truce.Mechanism,
		Keys: []truce.Key{{ID: pub.ID, Public: in.SystemKey, Added: c.index}}, Registered: c.index,
	}
	s.keys[pub.ID] = &key{member: truce.SystemAuthor, pub: pub, added: c.index}
	c.touch(TypeInstance, in.Origin)
	c.touch(TypeMember, truce.SystemAuthor)
	return nil
}

// --- member.registered

// MemberRegistration is the body of member.registered.
type MemberRegistration struct {
	ID    string     `json:"id"`
	Name  string     `json:"name"`
	Role  truce.Role `json:"role"`
	Party string     `json:"party"`
	Keys  []string   `json:"keys"` // public keys, "ed25519:..."
	// Custodial are keys the server holds for the member's browser work.
	Custodial []string `json:"custodial,omitempty"`
}

func checkMember(m *MemberRegistration) error {
	if !idPattern.MatchString(m.ID) || m.ID == truce.SystemAuthor {
		return truce.FieldErrorf(truce.CodeInvalid, "body.id", "must be 1-64 lowercase letters, digits and dashes")
	}
	if err := text("body.name", m.Name, 200, true); err != nil {
		return err
	}
	if !m.Role.Valid() {
		return truce.FieldErrorf(truce.CodeInvalid, "body.role", "unknown role %q", m.Role)
	}
	if !codePattern.MatchString(m.Party) {
		return truce.FieldErrorf(truce.CodeInvalid, "body.party", "must be a party code such as PK or %s", truce.Mechanism)
	}
	if len(m.Keys)+len(m.Custodial) > 8 {
		return truce.FieldErrorf(truce.CodeInvalid, "body.keys", "at most 8 keys")
	}
	for _, set := range []struct {
		field string
		keys  []string
	}{{"body.keys", m.Keys}, {"body.custodial", m.Custodial}} {
		for i, k := range set.keys {
			if _, err := entry.ParsePublicKey(k); err != nil {
				return truce.FieldErrorf(truce.CodeInvalid, fmt.Sprintf("%s[%d]", set.field, i), "%v", err)
			}
		}
	}
	return nil
}

func applyMember(s *State, c *applyCtx, body any) error {
	m := body.(*MemberRegistration)
	if s.Agreement == nil {
		return truce.Errorf(truce.CodeConflict, "members are registered after the agreement is adopted")
	}
	if _, ok := s.members[m.ID]; ok {
		return truce.FieldErrorf(truce.CodeConflict, "body.id", "member %q is already registered", m.ID)
	}
	if err := s.checkAffiliation(m.Role, m.Party); err != nil {
		return err
	}
	if m.Role == truce.RoleAdmin && c.author.Role != truce.RoleSystem {
		return truce.FieldErrorf(truce.CodeForbidden, "body.role", "administrators are registered by the instance itself")
	}
	mem := &truce.Member{ID: m.ID, Name: m.Name, Role: m.Role, Party: m.Party, Registered: c.index}
	newKeys := map[string]*key{}
	for _, set := range []struct {
		field     string
		keys      []string
		custodial bool
	}{{"body.keys", m.Keys, false}, {"body.custodial", m.Custodial, true}} {
		for i, k := range set.keys {
			pub, _ := entry.ParsePublicKey(k)
			if _, taken := s.keys[pub.ID]; taken || newKeys[pub.ID] != nil {
				return truce.FieldErrorf(truce.CodeConflict, fmt.Sprintf("%s[%d]", set.field, i), "key %s is already registered", pub.ID)
			}
			// Under strict rules, keys registered for a party's (or, after
			// the founding, a mediating state's) member sign nothing until
			// its group approves them.
			pending := s.needsConsent(mem, c.author)
			newKeys[pub.ID] = &key{member: m.ID, pub: pub, added: c.index, custodial: set.custodial, pending: pending,
				unconsented: !s.version.Strict && s.consentNeeded(mem, c.author)}
			mem.Keys = append(mem.Keys, truce.Key{ID: pub.ID, Public: k, Added: c.index, Custodial: set.custodial, Pending: pending})
		}
	}
	s.members[m.ID] = mem
	for id, k := range newKeys {
		s.keys[id] = k
	}
	c.touch(TypeMember, m.ID)
	return nil
}

// --- key.added / key.revoked: rotation and revocation.

// KeyAddition is the body of key.added.
type KeyAddition struct {
	Member    string `json:"member"`
	Key       string `json:"key"` // "ed25519:..."
	Custodial bool   `json:"custodial,omitempty"`
	// Proof is the new key's signature of its possession message
	// (entry.PossessionMessage), base64: whoever adds it holds it. Strict
	// rules require it.
	Proof string `json:"proof,omitempty"`
}

// KeyApproval is the body of key.approved: a party's consent to a key
// someone else added to one of its members.
type KeyApproval struct {
	Member string `json:"member"`
	Key    string `json:"key"` // key id
}

// KeyRevocation is the body of key.revoked.
type KeyRevocation struct {
	Member string `json:"member"`
	Key    string `json:"key"` // key id
	Reason string `json:"reason"`
}

func checkKeyAddition(k *KeyAddition) error {
	if _, err := entry.ParsePublicKey(k.Key); err != nil {
		return truce.FieldErrorf(truce.CodeInvalid, "body.key", "%v", err)
	}
	return nil
}

func checkKeyRevocation(k *KeyRevocation) error { return text("body.reason", k.Reason, 2000, true) }

// keyAuthority checks that the author may manage member's keys: the
// member itself, an administrator or the system.
func (s *State) keyAuthority(c *applyCtx, member string) (*truce.Member, error) {
	m, ok := s.members[member]
	if !ok || m.Role == truce.RoleSystem {
		return nil, truce.FieldErrorf(truce.CodeNotFound, "body.member", "no member %q", member)
	}
	if c.author.ID != member && c.author.Role != truce.RoleAdmin && c.author.Role != truce.RoleSystem {
		return nil, truce.Errorf(truce.CodeForbidden, "only %s or an administrator manages %s's keys", member, member)
	}
	return m, nil
}

func applyKeyAddition(s *State, c *applyCtx, body any) error {
	a := body.(*KeyAddition)
	m, err := s.keyAuthority(c, a.Member)
	if err != nil {
		return err
	}
	if a.Custodial && c.author.Role != truce.RoleSystem && c.author.Role != truce.RoleAdmin {
		return truce.FieldErrorf(truce.CodeForbidden, "body.custodial", "custodial keys are added by the instance")
	}
	pub, _ := entry.ParsePublicKey(a.Key)
	if _, taken := s.keys[pub.ID]; taken {
		return truce.FieldErrorf(truce.CodeConflict, "body.key", "key %s is already registered", pub.ID)
	}
	if len(m.Keys) >= 16 {
		return truce.FieldErrorf(truce.CodeConflict, "body.key", "%s has 16 keys; revoke old ones first", m.ID)
	}
	pending := false
	if s.version.Strict {
		if !pub.VerifyPossession(s.Instance.Origin, m.ID, a.Proof) {
			return truce.FieldErrorf(truce.CodeInvalid, "body.proof", "is not the new key's signature of its possession message: whoever adds a key must hold it")
		}
		// Someone else than the member adding a party's or a mediating
		// state's member's key: its group must consent before it signs.
		pending = s.needsConsent(m, c.author)
	}
	s.keys[pub.ID] = &key{member: m.ID, pub: pub, added: c.index, custodial: a.Custodial, pending: pending,
		unconsented: !s.version.Strict && s.consentNeeded(m, c.author)}
	m.Keys = append(m.Keys, truce.Key{ID: pub.ID, Public: a.Key, Added: c.index, Custodial: a.Custodial, Pending: pending})
	c.touch(TypeMember, m.ID)
	return nil
}

func checkKeyApproval(a *KeyApproval) error {
	if a.Member == "" || a.Key == "" {
		return truce.FieldErrorf(truce.CodeInvalid, "body", "name the member and the key id")
	}
	return nil
}

// applyKeyApproval records consent to a pending key. Its group (the
// member's party, or for a mediator its state) consents through one of its
// own members with a usable key. A group none of whose members has one is
// enrolled by the others: a party by mediators of the agreement's quorum
// of states, a mediating state by a liaison of each party.
func applyKeyApproval(s *State, c *applyCtx, body any) error {
	a := body.(*KeyApproval)
	m, ok := s.members[a.Member]
	if !ok {
		return truce.FieldErrorf(truce.CodeNotFound, "body.member", "no member %q", a.Member)
	}
	k, ok := s.keys[a.Key]
	if !ok || k.member != m.ID {
		return truce.FieldErrorf(truce.CodeNotFound, "body.key", "%s has no key %s", m.ID, a.Key)
	}
	if !k.pending || k.revoked != 0 {
		return truce.FieldErrorf(truce.CodeConflict, "body.key", "key %s does not await approval", a.Key)
	}
	group := consentGroup(m)
	var needed int
	switch {
	case consentGroup(c.author) == group:
		needed = 1 // the group's own
	case s.groupHasKey(group):
		return truce.Errorf(truce.CodeForbidden, "%s has members with keys: one of them approves %s's keys", m.Party, m.ID)
	case group.role == truce.RoleLiaison && c.author.Role == truce.RoleMediator:
		needed = s.Agreement.Quorum
	case group.role == truce.RoleMediator && c.author.Role == truce.RoleLiaison:
		needed = len(s.Agreement.Parties)
	default:
		return truce.Errorf(truce.CodeForbidden, "a %s may not approve %s's keys", c.author.Role, m.ID)
	}
	if !slices.Contains(k.approvals, c.author.Party) {
		k.approvals = append(k.approvals, c.author.Party)
	}
	if len(k.approvals) < needed {
		c.touch(TypeMember, m.ID)
		return nil
	}
	k.pending, k.approvals = false, nil
	for i := range m.Keys {
		if m.Keys[i].ID == a.Key {
			m.Keys[i].Pending, m.Keys[i].Approved = false, c.index
		}
	}
	// The group is enrolled: approvals others gave its other keys meanwhile
	// no longer count.
	for _, other := range s.keys {
		if other.pending && consentGroup(s.members[other.member]) == group {
			other.approvals = nil
		}
	}
	c.touch(TypeMember, m.ID)
	return nil
}

// group is who consents to a member's keys: the liaisons of its party, or
// the mediators of its state; zero for the mechanism's staff, whose keys
// the administrator keeps.
type group struct {
	role truce.Role
	code string
}

func consentGroup(m *truce.Member) group {
	if m.Role == truce.RoleLiaison || m.Role == truce.RoleMediator {
		return group{m.Role, m.Party}
	}
	return group{}
}

// needsConsent reports whether a key registered or added for m by author
// must wait for m's group: under strict rules, any but m's own, except a
// mediator's registered before the first entry by a member (the instance's
// founding, whose mediators' keys the parties check when they join).
func (s *State) needsConsent(m *truce.Member, author *truce.Member) bool {
	return s.version.Strict && s.consentNeeded(m, author)
}

// consentNeeded reports whether a key author adds to m needs m's group's
// consent, under rules that ask for it.
func (s *State) consentNeeded(m *truce.Member, author *truce.Member) bool {
	g := consentGroup(m)
	switch {
	case g == (group{}) || (author != nil && author.ID == m.ID):
		return false
	case g.role == truce.RoleMediator:
		return s.founded
	}
	return true
}

// UnconsentedKey is a key of a party's or a mediating state's member that
// someone else added, under rules that did not ask the group's consent
// (before version 2): entries signed with it are not known to be the
// member's.
type UnconsentedKey struct {
	Member, Key string
	Added       int64 // the entry that added it
}

// Unconsented lists the keys in use that were added without their
// group's consent, in log order, for auditors to flag.
func (s *State) Unconsented() []UnconsentedKey {
	var out []UnconsentedKey
	for id, k := range s.keys {
		if k.unconsented && k.revoked == 0 {
			out = append(out, UnconsentedKey{Member: k.member, Key: id, Added: k.added})
		}
	}
	slices.SortFunc(out, func(a, b UnconsentedKey) int { return cmp.Or(cmp.Compare(a.Added, b.Added), cmp.Compare(a.Key, b.Key)) })
	return out
}

// groupHasKey reports whether a member of g has a usable key.
func (s *State) groupHasKey(g group) bool {
	for _, k := range s.keys {
		if !k.pending && k.revoked == 0 && consentGroup(s.members[k.member]) == g {
			return true
		}
	}
	return false
}

func applyKeyRevocation(s *State, c *applyCtx, body any) error {
	r := body.(*KeyRevocation)
	m, err := s.keyAuthority(c, r.Member)
	if err != nil {
		return err
	}
	// Under strict rules the administrator cannot strip a party or a
	// mediating state of its keys (and so open its enrolment to others):
	// the member revokes, or its group.
	if g := consentGroup(m); s.version.Strict && g != (group{}) && c.author.ID != m.ID && consentGroup(c.author) != g {
		return truce.Errorf(truce.CodeForbidden, "%s's keys are revoked by %s or by a %s of %s", m.ID, m.ID, g.role, g.code)
	}
	k, ok := s.keys[r.Key]
	if !ok || k.member != m.ID {
		return truce.FieldErrorf(truce.CodeNotFound, "body.key", "%s has no key %s", m.ID, r.Key)
	}
	if k.revoked != 0 {
		return truce.FieldErrorf(truce.CodeConflict, "body.key", "key %s was already revoked", r.Key)
	}
	// Entries after this one signed with the key are refused.
	k.revoked = c.index + 1
	for i := range m.Keys {
		if m.Keys[i].ID == r.Key {
			m.Keys[i].Revoked = k.revoked
		}
	}
	c.touch(TypeMember, m.ID)
	return nil
}

// checkAffiliation checks that a role goes with a party: liaisons belong to
// a party, mediators to a mediating state, everyone else to the mechanism.
func (s *State) checkAffiliation(role truce.Role, party string) error {
	a := s.Agreement
	var ok bool
	switch role {
	case truce.RoleLiaison:
		_, ok = a.Party(party)
	case truce.RoleMediator:
		_, ok = a.Mediator(party)
	case truce.RolePublic:
		ok = true
	default:
		ok = party == truce.Mechanism
	}
	if !ok {
		return truce.FieldErrorf(truce.CodeInvalid, "body.party", "a %s cannot belong to %q", role, party)
	}
	return nil
}

// Subject returns the id of the existing record a command acts on (the
// allegation a reply answers, the finding a signature signs), or "" for
// commands that create a record from nothing.
func Subject(c *Command) string {
	for _, n := range Refs(c) {
		if n.Subject {
			return n.ID
		}
	}
	return ""
}

// Named is a record a command names, in one of its body's fields.
type Named struct {
	Ref
	Field   string // e.g. body.allegation
	Subject bool   // the record the command acts on
}

// Refs lists the existing records a command names — its subject, and the
// records it builds on (the allegation a case is opened on, the case a
// finding is proposed on, what a source is linked to) — so that a surface
// can answer a member who may not see one of them "not found", as for one
// that does not exist, rather than let the rules' refusal say more.
func Refs(c *Command) []Named {
	var out []Named
	add := func(subject bool, typ, field, id string) {
		if id != "" {
			out = append(out, Named{Ref: Ref{Type: typ, ID: id}, Field: "body." + field, Subject: subject})
		}
	}
	const acts, on = true, false // the record acted on; one built on
	switch b := c.body.(type) {
	case *truce.Reply:
		add(acts, TypeAllegation, "allegation", b.Allegation)
	case *truce.Admission:
		add(acts, TypeAllegation, "allegation", b.Allegation)
	case *truce.Rejection:
		add(acts, TypeAllegation, "allegation", b.Allegation)
	case *truce.CaseOpening:
		add(on, TypeAllegation, "allegation", b.Allegation)
	case *truce.TaskAssignment:
		add(acts, TypeCase, "case", b.Case)
	case *truce.TaskResult:
		add(acts, TypeTask, "task", b.Task)
	case *truce.EvidenceRegistration:
		add(on, TypeCase, "case", b.Case)
		add(on, TypeAllegation, "allegation", b.Allegation)
	case *truce.CustodyEvent:
		add(acts, TypeEvidence, "evidence", b.Evidence)
	case *truce.FindingProposal:
		add(on, TypeCase, "case", b.Case)
	case *truce.FindingSignature:
		add(acts, TypeFinding, "finding", b.Finding)
	case *truce.FindingObjection:
		add(acts, TypeFinding, "finding", b.Finding)
	case *truce.ConsequenceDecision:
		add(acts, TypeConsequence, "consequence", b.Consequence)
	case *truce.CommitmentUpdate:
		add(acts, TypeCommitment, "commitment", b.Commitment)
	case *truce.AmendmentSignature:
		add(acts, TypeAmendment, "amendment", b.Amendment)
	case *truce.OutletGrading:
		add(acts, TypeOutlet, "outlet", OutletID(b.Outlet))
	case *truce.SourceIngestion:
		add(on, TypeSource, "revises", b.Revises)
	case *truce.SourceMove:
		add(acts, TypeSource, "source", b.Source)
	case *truce.SourceLink:
		add(on, TypeSource, "source", b.Source)
		add(on, TypeStory, "story", b.Story)
		add(on, TypeAllegation, "allegation", b.Allegation)
		add(on, TypeCase, "case", b.Case)
	}
	return out
}

var commitmentPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// checkSealed checks a commitment's form.
func checkSealed(field string, s *truce.Sealed) error {
	if s != nil && !commitmentPattern.MatchString(s.Commitment) {
		return truce.FieldErrorf(truce.CodeInvalid, field+".commitment", "must be sha256: and 64 lowercase hex digits")
	}
	return nil
}

// checkVisibility checks a filing's visibility against those allowed.
func checkVisibility(field string, v truce.Visibility, allowed ...truce.Visibility) error {
	if v != "" && !slices.Contains(allowed, v) {
		return truce.FieldErrorf(truce.CodeInvalid, field, "must be one of %v", allowed)
	}
	return nil
}

// SealedOf returns the sealed commitment a command carries, if any.
func SealedOf(c *Command) *truce.Sealed {
	switch b := c.body.(type) {
	case *truce.AllegationFiling:
		return b.Sealed
	case *truce.EvidenceRegistration:
		return b.Sealed
	}
	return nil
}

// KeysDeclared returns the member and public keys an entry adds to the
// log: the system key of instance.created, a member.registered's keys, a
// key.added's key. Receipts use it to show what key signed an entry.
func KeysDeclared(c *Command) (member string, keys []string) {
	switch b := c.body.(type) {
	case *Instance:
		return truce.SystemAuthor, []string{b.SystemKey}
	case *MemberRegistration:
		return b.ID, append(append([]string(nil), b.Keys...), b.Custodial...)
	case *KeyAddition:
		return b.Member, []string{b.Key}
	}
	return "", nil
}
