package api

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/workflows"
)

// A kept view is served only at its version and to its viewer; a newer
// version replaces it and an older one never does; the views kept stay
// within their bound, the least recently used going first.
func TestDealViewsKeepEachViewersViewAtItsVersion(t *testing.T) {
	v := newDealViews(64 << 10)
	buyer := viewKey{deal: "d1", viewer: dealview.Viewer{Role: workflows.RoleBuyer, OrgID: "b", UserID: "u1"}}
	supplier := viewKey{deal: "d1", viewer: dealview.Viewer{Role: workflows.RoleSupplier, OrgID: "s", UserID: "u2"}}
	v.put(buyer, 2, []byte("buyer at 2"))
	v.put(supplier, 2, nil)
	if body, visible, ok := v.get(buyer, 2); !ok || !visible || string(body) != "buyer at 2" {
		t.Fatalf("buyer at 2: %q %v %v", body, visible, ok)
	}
	if _, visible, ok := v.get(supplier, 2); !ok || visible {
		t.Fatalf("a view the supplier may not see: visible %v, kept %v", visible, ok)
	}
	for _, miss := range []struct {
		key     viewKey
		version int64
	}{{buyer, 1}, {buyer, 3}, {viewKey{deal: "d1", viewer: dealview.Viewer{Role: workflows.RoleBuyer, OrgID: "b", UserID: "u9"}}, 2}, {viewKey{deal: "d2", viewer: buyer.viewer}, 2}} {
		if body, _, ok := v.get(miss.key, miss.version); ok {
			t.Fatalf("%+v at %d served %q", miss.key, miss.version, body)
		}
	}
	v.put(buyer, 3, []byte("buyer at 3"))
	v.put(buyer, 2, []byte("buyer at 2, late"))
	if body, _, ok := v.get(buyer, 3); !ok || string(body) != "buyer at 3" {
		t.Fatalf("after a late older view: %q %v", body, ok)
	}

	body := bytes.Repeat([]byte("x"), 4<<10)
	for i := range 100 {
		v.put(viewKey{deal: fmt.Sprintf("deal-%d", i), viewer: buyer.viewer}, 1, body)
		if i%5 == 0 {
			v.get(buyer, 3) // recently used: kept
		}
	}
	if v.bytes > v.maxBytes {
		t.Fatalf("%d bytes kept, bound %d", v.bytes, v.maxBytes)
	}
	if _, _, ok := v.get(viewKey{deal: "deal-0", viewer: buyer.viewer}, 1); ok {
		t.Fatal("the least recently used view is still kept past the bound")
	}
	if _, _, ok := v.get(viewKey{deal: "deal-99", viewer: buyer.viewer}, 1); !ok {
		t.Fatal("the newest view is not kept")
	}
	if _, _, ok := v.get(buyer, 3); !ok {
		t.Fatal("a view used recently went before older ones")
	}
	v.put(viewKey{deal: "huge", viewer: buyer.viewer}, 1, make([]byte, 60<<10))
	if _, _, ok := v.get(viewKey{deal: "huge", viewer: buyer.viewer}, 1); ok {
		t.Fatal("a view bigger than an eighth of the bound was kept")
	}
}
