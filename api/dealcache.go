package api

import (
	"container/list"
	"sync"

	"github.com/tradeloop/tradeloop/internal/dealview"
)

// dealViews keeps the deals the API served, encoded as each viewer saw
// them, with the deal's version (readmodel.Kept.Version) they were made
// from. A read asks PostgreSQL only for the deal's version, one small
// query, and answers with the kept bytes when the deal has not changed
// since: no timeline to read, no state to decode, filter and encode. The
// version is the row's, raised by every projection written, so a view is
// never served for a deal that changed, whichever API process wrote it.
// Views are kept per viewer (role, organization and user), so one
// viewer's view is never another's. At most maxBytes are kept, the least
// recently used going first.
type dealViews struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	recent   list.List // of *keptView, the most recently used first
	byKey    map[viewKey]*list.Element
}

type viewKey struct {
	deal   string
	viewer dealview.Viewer
}

type keptView struct {
	key     viewKey
	version int64
	// body is the view encoded as JSON; nil: the viewer may not see the
	// deal (a 404).
	body []byte
}

// dealViewsBytes bounds the views an API process keeps: a deal's view is
// a few kilobytes to a few hundred.
const dealViewsBytes = 32 << 20

func newDealViews(maxBytes int) *dealViews {
	return &dealViews{maxBytes: maxBytes, byKey: map[viewKey]*list.Element{}}
}

// get returns the view kept for key at version, if any.
func (v *dealViews) get(key viewKey, version int64) (body []byte, visible, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, found := v.byKey[key]
	if !found {
		return nil, false, false
	}
	kv := e.Value.(*keptView)
	if kv.version != version {
		return nil, false, false
	}
	v.recent.MoveToFront(e)
	return kv.body, kv.body != nil, true
}

// put keeps body as key's view at version, replacing an older one; a
// view too big to keep is not kept.
func (v *dealViews) put(key viewKey, version int64, body []byte) {
	kept := &keptView{key: key, version: version, body: body}
	if kept.size() > v.maxBytes/8 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, found := v.byKey[key]; found {
		kv := e.Value.(*keptView)
		if kv.version > version {
			return // a newer view came first
		}
		v.bytes -= kv.size()
		e.Value = kept
		v.recent.MoveToFront(e)
	} else {
		v.byKey[key] = v.recent.PushFront(kept)
	}
	v.bytes += kept.size()
	for v.bytes > v.maxBytes {
		last := v.recent.Back()
		kv := last.Value.(*keptView)
		v.recent.Remove(last)
		delete(v.byKey, kv.key)
		v.bytes -= kv.size()
	}
}

// size is what a kept view counts against maxBytes: its body, its key and
// what keeping it costs besides.
func (kv *keptView) size() int {
	return len(kv.body) + len(kv.key.deal) + len(kv.key.viewer.OrgID) + len(kv.key.viewer.UserID) + 160
}
