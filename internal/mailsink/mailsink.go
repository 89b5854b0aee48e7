// Package mailsink is an SMTP server that keeps the mail it is sent in
// memory and shows it on a web page, for the dev stack and the tests: no
// mail leaves the machine.
package mailsink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tradeloop/tradeloop/internal/config"
)

// Keep is how many messages the sink holds; older ones are dropped.
const Keep = 500

// Message is one mail the sink took.
type Message struct {
	At      time.Time `json:"at"`
	From    string    `json:"from"`
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	ID      string    `json:"message_id"`
	Text    string    `json:"text"`
	HTML    string    `json:"html"`
}

// Sink is a running SMTP server.
type Sink struct {
	server *smtp.Server
	addr   string

	mu   sync.Mutex
	mail []Message
	// Refuse, when set, is asked about each recipient; an error refuses
	// it (tests of failed deliveries).
	refuse func(rcpt string) error
}

// Start serves SMTP on addr ("127.0.0.1:0" for a free port).
func Start(addr string) (*Sink, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail sink: %w", err)
	}
	s := &Sink{addr: l.Addr().String()}
	s.server = smtp.NewServer(backend{s})
	s.server.Domain = "localhost"
	s.server.MaxMessageBytes = 10 << 20
	s.server.MaxRecipients = 100
	s.server.ReadTimeout, s.server.WriteTimeout = time.Minute, time.Minute
	go func() { _ = s.server.Serve(l) }()
	return s, nil
}

// Addr is where the sink listens.
func (s *Sink) Addr() string { return s.addr }

// Config is the mail configuration that sends to the sink, as from.
func (s *Sink) Config(from string) config.Mail {
	host, port, _ := net.SplitHostPort(s.addr)
	p, _ := strconv.Atoi(port)
	return config.Mail{SMTPHost: host, SMTPPort: p, SMTPTLS: "none", From: from}
}

// Close stops the sink.
func (s *Sink) Close() error { return s.server.Close() }

// RefuseWith makes the sink ask f about each recipient from now on.
func (s *Sink) RefuseWith(f func(rcpt string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = f
}

// Messages returns the mail taken, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.mail...)
}

func (s *Sink) take(from string, to []string, raw []byte) {
	m := Message{At: time.Now(), From: from, To: to}
	if parsed, err := netmail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(parsed.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
		m.ID = parsed.Header.Get("Message-Id")
		m.Text, m.HTML = parts(parsed.Header.Get("Content-Type"), parsed.Header.Get("Content-Transfer-Encoding"), parsed.Body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mail = append(s.mail, m)
	if len(s.mail) > Keep {
		s.mail = s.mail[len(s.mail)-Keep:]
	}
}

// parts finds the plain-text and HTML parts of a body.
func parts(contentType, encoding string, body io.Reader) (text, html string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err != nil {
				return text, html
			}
			t, h := parts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			text, html = text+t, html+h
		}
	}
	b, _ := io.ReadAll(decode(encoding, body))
	switch mt {
	case "text/plain":
		return string(b), ""
	case "text/html":
		return "", string(b)
	}
	return "", ""
}

type backend struct{ sink *Sink }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{sink: b.sink}, nil }

type session struct {
	sink *Sink
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	refuse := s.sink.refuse
	s.sink.mu.Unlock()
	if refuse != nil {
		if err := refuse(to); err != nil {
			return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: err.Error()}
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipients")
	}
	s.sink.take(s.from, s.to, raw)
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

var page = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tradeloop dev mail ({{len .}})</title>
<style>body{font-family:sans-serif;margin:1rem;max-width:60rem}article{border-bottom:1px solid #ddd;padding:.5rem 0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}small{color:#666}</style></head>
<body><h1>Mail the dev stack sent ({{len .}}, newest first)</h1>
<p><small>Nothing here left this machine. <a href="?format=json">JSON</a></small></p>
{{range .}}<article><h2>{{.Subject}}</h2><small>{{.At.Format "2006-01-02 15:04:05"}} · from {{.From}} · to {{range .To}}{{.}} {{end}}</small>
<pre>{{.Text}}</pre></article>{{else}}<p>No mail yet.</p>{{end}}
</body></html>`))

// ServeHTTP shows the mail taken, newest first; ?format=json as JSON.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	msgs := s.Messages()
	slices.Reverse(msgs) // newest first
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(msgs)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, msgs)
}
