package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
)

// Mailer sends plain-text e-mail through one SMTP server, with STARTTLS
// when the server offers it.
type Mailer struct {
	Addr string // host:port
	From string
}

// ParseSMTP reads --smtp smtp://host:port (port 25 if not given) and
// --mail-from.
func ParseSMTP(raw, from string) (*Mailer, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("--smtp is smtp://host:port")
	}
	if err := checkEmail(from); err != nil || from == "" {
		return nil, fmt.Errorf("--mail-from is one e-mail address")
	}
	port := u.Port()
	if port == "" {
		port = "25"
	}
	return &Mailer{Addr: net.JoinHostPort(u.Hostname(), port), From: from}, nil
}

// Send sends msg (headers and body, CRLF lines) to one address.
func (m *Mailer) Send(ctx context.Context, to string, msg []byte) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(m.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// subjects say what each event is, with the record's id.
var subjects = map[string]string{
	AllegationFiledAgainst: "Allegation %s filed against your party",
	ReplyDue:               "Reply to allegation %s falls due",
	AdmissionDue:           "Admission of allegation %s falls due",
	ConsequenceDue:         "Consequence %s falls due",
	FindingInEffect:        "Finding %s is in effect",
	FindingObjected:        "Objection to finding %s",
	ConsequenceApplied:     "Consequence %s applied",
}

// message is a delivery's e-mail: what happened to which record, and a
// link to its page — ids and times only, nothing of the record's content,
// as the webhook body.
func message(d store.Delivery, rec *truce.Record, base, from string) []byte {
	id := clean(rec.ID)
	subject := fmt.Sprintf(subjects[d.Event], id)
	var b strings.Builder
	fmt.Fprintf(&b, "From: Truce <%s>\r\n", clean(from))
	fmt.Fprintf(&b, "To: <%s>\r\n", clean(d.Target))
	fmt.Fprintf(&b, "Subject: [Truce] %s\r\n", subject)
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <truce.%d@notifications.truce>\r\n", d.ID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n")
	fmt.Fprintf(&b, "%s.\r\n\r\n", subject)
	fmt.Fprintf(&b, "Event:  %s\r\nRecord: %s %s\r\nEntry:  %d, logged %s\r\n\r\n", d.Event, clean(rec.Type), id, d.Index, d.Logged.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Read it at %s\r\n\r\n", base+PagePath(rec.Type, rec.ID))
	fmt.Fprintf(&b, "You are told this because you chose %s in your notification settings: %s/notifications\r\n", d.Event, base)
	return []byte(b.String())
}

// clean drops control characters, so that nothing breaks a header line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
