// Package inbox is each user's in-app inbox: the notification dispatcher
// puts every notification into the inboxes of the users it is for (Put),
// and a user reads its own, unread first and newest first in keyset
// pages, and marks entries read.
package inbox

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Page sizes: DefaultPage entries unless asked for, at most MaxPage.
const (
	DefaultPage = 50
	MaxPage     = 200
)

var (
	// ErrBadCursor means a page cursor was not made by this package.
	ErrBadCursor = errors.New("malformed inbox cursor")
	// ErrNotFound means the user has no such entry: another user's is
	// not found either.
	ErrNotFound = errors.New("no such notification")
)

// Entry is one notification in a user's inbox, worded in the user's
// language and time zone (internal/texts).
type Entry struct {
	ID     uuid.UUID `json:"id"`
	DealID string    `json:"deal_id"`
	Kind   string    `json:"kind"`
	// Title and Text are worded for the reader.
	Title string `json:"title"`
	Text  string `json:"text"`
	// Facts are what the text says, for programs (absent in entries
	// made before notifications carried them).
	Facts     *notice.Facts `json:"facts,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	ReadAt    *time.Time    `json:"read_at,omitempty"`
}

// Page is one page of an inbox: unread entries first, then read ones,
// each newest first. Next, when set, is the cursor of the following page.
type Page struct {
	Notifications []Entry `json:"notifications"`
	// Unread is how many unread entries the whole inbox holds.
	Unread int64  `json:"unread"`
	Next   string `json:"next,omitempty"`
}

// Put puts the notification under key into the inbox of each of its
// recipients (the notification_recipients view says who they are). q is
// the dispatcher's transaction; a repeat adds nothing.
func Put(ctx context.Context, q *store.Queries, key string) error {
	if err := q.PutInInboxes(ctx, key); err != nil {
		return fmt.Errorf("put notification %s in its inboxes: %w", key, err)
	}
	return nil
}

// Service reads and marks users' inboxes.
type Service struct {
	q   *store.Queries
	now func() time.Time
}

// New returns the inboxes of the database behind pool.
func New(pool *pgxpool.Pool) *Service { return &Service{q: store.New(pool), now: time.Now} }

// Read returns a page of user's inbox: the first when cursor is "", else
// the one after the page whose Next it is. limit 0 means DefaultPage; it is
// capped at MaxPage.
func (s *Service) Read(ctx context.Context, user uuid.UUID, cursor string, limit int) (Page, error) {
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	c, err := decodeCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	page := Page{Notifications: []Entry{}}
	var last []cursorAt // each entry's position, for the next page's cursor
	add := func(r store.InboxReadRow) {
		page.Notifications = append(page.Notifications, entryOf(r))
		last = append(last, cursorAt{set: true, read: r.ReadAt != nil, at: r.CreatedAt, key: r.Key})
	}
	// One more than the page holds tells whether a next page exists.
	want := int32(limit + 1)
	if !c.read {
		rows, err := s.q.InboxUnread(ctx, store.InboxUnreadParams{UserID: user, After: c.set, AfterAt: c.at, AfterKey: c.key, MaxCount: want})
		if err != nil {
			return Page{}, fmt.Errorf("read the unread inbox: %w", err)
		}
		for _, r := range rows {
			add(store.InboxReadRow(r))
		}
		c = cursorAt{} // then the read entries, from their start
	}
	if n := int32(len(page.Notifications)); n < want {
		rows, err := s.q.InboxRead(ctx, store.InboxReadParams{UserID: user, After: c.set, AfterAt: c.at, AfterKey: c.key, MaxCount: want - n})
		if err != nil {
			return Page{}, fmt.Errorf("read the inbox: %w", err)
		}
		for _, r := range rows {
			add(r)
		}
	}
	if len(page.Notifications) > limit {
		page.Notifications = page.Notifications[:limit]
		page.Next = encodeCursor(last[limit-1])
	}
	if page.Unread, err = s.Unread(ctx, user); err != nil {
		return Page{}, err
	}
	return page, nil
}

// entryOf is the entry an inbox row holds, worded for its user.
func entryOf(r store.InboxReadRow) Entry {
	reader := texts.ReaderOf(r.Language, r.TimeZone)
	e := Entry{ID: r.ID, DealID: r.DealID, Kind: r.Kind, Title: texts.Title(reader, r.Kind), Text: r.Text, CreatedAt: r.CreatedAt, ReadAt: r.ReadAt}
	if facts, err := notice.Decode(r.Facts); err == nil && facts != nil {
		e.Facts = facts
		e.Text = texts.Text(reader, r.Kind, *facts, r.Text)
	}
	return e
}

// Entry returns one of user's entries.
func (s *Service) Entry(ctx context.Context, user, id uuid.UUID) (Entry, error) {
	r, err := s.q.InboxEntry(ctx, store.InboxEntryParams{UserID: user, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("read notification %s: %w", id, err)
	}
	return entryOf(store.InboxReadRow(r)), nil
}

// Unread counts user's unread entries.
func (s *Service) Unread(ctx context.Context, user uuid.UUID) (int64, error) {
	n, err := s.q.InboxUnreadCount(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("count the unread inbox: %w", err)
	}
	return n, nil
}

// MarkRead marks one of user's entries read and returns it as it now
// stands; an entry read before keeps the time of its first reading.
func (s *Service) MarkRead(ctx context.Context, user, id uuid.UUID) (Entry, error) {
	r, err := s.q.MarkInboxRead(ctx, store.MarkInboxReadParams{At: s.now(), UserID: user, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("mark notification %s read: %w", id, err)
	}
	return Entry{ID: r.ID, ReadAt: r.ReadAt}, nil
}

// MarkAllRead marks every unread entry of user's read, up to the
// notifications made by now, and says how many it marked.
func (s *Service) MarkAllRead(ctx context.Context, user uuid.UUID) (int64, error) {
	n, err := s.q.MarkInboxAllRead(ctx, store.MarkInboxAllReadParams{At: s.now(), UserID: user})
	if err != nil {
		return 0, fmt.Errorf("mark the inbox read: %w", err)
	}
	return n, nil
}

// cursorAt is a position in an inbox: after the entry of key, made at
// at, in the unread or the read part.
type cursorAt struct {
	set  bool
	read bool
	at   time.Time
	key  string
}

func encodeCursor(c cursorAt) string {
	part := "u"
	if c.read {
		part = "r"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(part + "|" + strconv.FormatInt(c.at.UnixMicro(), 10) + "|" + c.key))
}

// maxCursor bounds a cursor's length: the ones this package makes are
// under 150 characters (a notification key is under 100).
const maxCursor = 512

func decodeCursor(s string) (cursorAt, error) {
	if s == "" {
		return cursorAt{}, nil
	}
	if len(s) > maxCursor {
		return cursorAt{}, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursorAt{}, ErrBadCursor
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || (parts[0] != "u" && parts[0] != "r") || parts[2] == "" {
		return cursorAt{}, ErrBadCursor
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return cursorAt{}, ErrBadCursor
	}
	return cursorAt{set: true, read: parts[0] == "r", at: time.UnixMicro(us).UTC(), key: parts[2]}, nil
}
