// Package mail is the e-mail channel of notifications: each notification
// goes to every recipient (notification_recipients) as one message with a
// plain-text and an HTML part, over SMTP with TLS. A recipient is recorded
// once the mail server took its message, so a notification tried again
// after a failure mails only those not mailed yet.
package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	netmail "net/mail"
	texttemplate "text/template"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	gomail "github.com/wneessen/go-mail"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/texts"
)

//go:embed templates
var templateFiles embed.FS

var (
	textTemplate = texttemplate.Must(texttemplate.ParseFS(templateFiles, "templates/notification.txt.tmpl"))
	htmlTemplate = htmltemplate.Must(htmltemplate.ParseFS(templateFiles, "templates/notification.html.tmpl"))
)

// Sender mails notifications; it is an activities.Notifier.
type Sender struct {
	q      *store.Queries
	from   *netmail.Address
	client *gomail.Client
	logger *slog.Logger
}

// New returns the sender cfg describes, over the database behind pool.
func New(pool *pgxpool.Pool, cfg config.Mail, logger *slog.Logger) (*Sender, error) {
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("MAIL_FROM: %w", err)
	}
	opts := []gomail.Option{gomail.WithPort(cfg.SMTPPort), gomail.WithTimeout(30 * time.Second)}
	switch cfg.SMTPTLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if cfg.SMTPUsername != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(cfg.SMTPUsername), gomail.WithPassword(cfg.SMTPPassword))
	}
	client, err := gomail.NewClient(cfg.SMTPHost, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP client for %s: %w", cfg.SMTPHost, err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Sender{q: store.New(pool), from: from, client: client, logger: logger}, nil
}

// Notify mails n to each of its recipients not mailed yet. It fails if
// any message was not taken; those taken are not sent again.
func (s *Sender) Notify(ctx context.Context, n activities.Notification) error {
	rcpts, err := s.q.MailRecipients(ctx, n.Key)
	if err != nil {
		return fmt.Errorf("recipients of %s: %w", n.Key, err)
	}
	var errs []error
	for _, r := range rcpts {
		msg, err := s.message(n, r)
		if err != nil {
			// A recipient whose address the mail library refuses cannot be
			// mailed at all: say so, and do not hold the others back.
			s.logger.Warn("notification not mailable", "key", n.Key, "user", r.UserID, "error", err)
			continue
		}
		if err := s.client.DialAndSendWithContext(ctx, msg); err != nil {
			errs = append(errs, fmt.Errorf("mail %s to user %s: %w", n.Key, r.UserID, err))
			continue
		}
		if err := s.q.RecordMailSent(ctx, store.RecordMailSentParams{Key: n.Key, UserID: r.UserID}); err != nil {
			return fmt.Errorf("record the mail of %s to user %s: %w", n.Key, r.UserID, err)
		}
	}
	return errors.Join(errs...)
}

// content is what the templates fill in: the words around the
// notification's text are the reader's language's too.
type content struct {
	Lang                                      texts.Lang
	Greeting, Text, DealLabel, DealID, Footer string
}

func (s *Sender) message(n activities.Notification, r store.MailRecipientsRow) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	if err := m.FromFormat(s.from.Name, s.from.Address); err != nil {
		return nil, err
	}
	if err := m.AddToFormat(r.Name, r.Email); err != nil {
		return nil, err
	}
	reader := texts.ReaderOf(r.Language, r.TimeZone)
	m.Subject(Subject(reader, n.Kind, n.DealID))
	// The same message for the same recipient has the same ID, so a mail
	// server that took it before a crash can tell a repeat.
	sum := sha256.Sum256([]byte(n.Key + "\x00" + r.UserID.String()))
	m.SetMessageIDWithValue(hex.EncodeToString(sum[:16]) + "@tradeloop")
	m.SetDate()
	said := n.Text
	if n.Facts != nil {
		said = texts.Text(reader, n.Kind, *n.Facts, n.Text)
	}
	c := content{
		Lang: reader.Lang, Greeting: texts.Phrase(reader, "mail.greeting", r.Name), Text: said,
		DealLabel: texts.Phrase(reader, "mail.deal", nil), DealID: n.DealID, Footer: texts.Phrase(reader, "mail.footer", nil),
	}
	var text, html bytes.Buffer
	if err := textTemplate.Execute(&text, c); err != nil {
		return nil, fmt.Errorf("text part: %w", err)
	}
	if err := htmlTemplate.Execute(&html, c); err != nil {
		return nil, fmt.Errorf("HTML part: %w", err)
	}
	m.SetBodyString(gomail.TypeTextPlain, text.String())
	m.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return m, nil
}

// Subject is a notification's subject line for r: its kind's title, and
// the deal (none for a notice about no deal, such as a webhook endpoint
// disabled).
func Subject(r texts.Reader, kind, dealID string) string {
	return texts.Phrase(r, "mail.subject", struct{ Title, Deal string }{texts.Title(r, kind), dealID})
}
