// Package dealdoc makes a deal's documents a buyer or supplier forwards to
// a manager: the deal's summary and its contract, as the viewer sees the
// deal (internal/dealview), in words and money as people read them, for
// internal/sheet to write as CSV, XLSX or PDF; and the platform's contract
// template with its standard clauses (worded in internal/texts' catalogs),
// blank or filled from a deal, for internal/sheet to write as PDF or DOCX.
package dealdoc

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

// Names are the organizations' names by ID (the buyer's, the supplier's);
// an ID without one shows as itself.
type Names map[string]string

func (n Names) of(id string) string {
	if name := n[id]; name != "" {
		return name
	}
	return id
}

// stamp is when a document was made, as it prints.
func stamp(at time.Time) string { return at.UTC().Format("2 January 2006, 15:04 UTC") }

// day is a date as documents print it ("" for none).
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

// doc builds a document's three-column table (section, item, detail) with
// its money cells as numbers for XLSX.
type doc struct {
	d        sheet.Document
	currency string
	section  string
}

func newDoc(title, currency string, notes ...string) *doc {
	return &doc{currency: currency, d: sheet.Document{Title: title, Notes: notes,
		Table: sheet.Table{Header: []string{"Section", "Item", "Detail"}}, Numbers: map[[2]int]sheet.Number{}, Highlight: map[[2]int]bool{}}}
}

// line adds a row of the current section (named on its first row only).
func (d *doc) line(item, detail string) {
	if detail == "" {
		return
	}
	sec := d.section
	d.section = ""
	d.d.Table.Rows = append(d.d.Table.Rows, []string{sec, item, detail})
}

// money adds a row whose detail is an amount of the document's currency.
func (d *doc) money(item string, amount int64) {
	d.line(item, money.Format(amount, d.currency))
	if amount > -1e15 && amount < 1e15 {
		format := `"` + d.currency + ` "#,##0`
		if dec := money.Decimals(d.currency); dec > 0 {
			format += "." + strings.Repeat("0", dec)
		}
		d.d.Numbers[[2]int{len(d.d.Table.Rows) - 1, 2}] = sheet.Number{Value: float64(amount) / math.Pow10(money.Decimals(d.currency)), Format: format}
	}
}

func (d *doc) begin(section string) { d.section = section }

// Summary is the deal st (as its viewer sees it) summed up on a page: its
// parties, its terms, its money, its goods' way and its dispute, made at.
func Summary(st workflows.DealState, names Names, at time.Time) sheet.Document {
	in := st.Inquiry
	d := newDoc(fmt.Sprintf("Deal summary: %s × %s", money.Count(in.Quantity), in.Product), st.Currency,
		fmt.Sprintf("Tradeloop deal %s, made %s.", st.DealID, stamp(at)),
		fmt.Sprintf("Stage: %s. Amounts in %s.", texts.StageName(texts.Default, string(st.Stage)), st.Currency))
	d.begin("Parties")
	d.line("Buyer", names.of(in.BuyerOrgID))
	if st.SupplierID != "" {
		d.line("Supplier", names.of(st.SupplierID))
	}
	d.begin("Goods")
	d.line("Product", in.Product)
	d.line("Quantity", money.Count(in.Quantity)+" "+in.Unit)
	d.line("Destination", in.Destination)
	d.line("Incoterm", in.Incoterm)
	if c := st.Contract; c != nil {
		t := c.Terms
		d.begin("Terms")
		d.money("Unit price", t.UnitPrice)
		d.money("Total", t.Total)
		d.money(fmt.Sprintf("Deposit (%d %%)", t.DepositPercent), t.Deposit)
		d.money("Balance", t.Balance)
		d.line("Lead time", fmt.Sprintf("%d days", t.LeadTimeDays))
		d.line("Ships by", day(t.ShipBy))
		d.line("Inspection", fmt.Sprintf("%d days after delivery", t.InspectionDays))
		d.begin("Contract")
		d.line("Terms SHA-256", c.TermsSHA256)
		d.line("Signed by the buyer", day(c.BuyerSignedAt))
		d.line("Signed by the supplier", day(c.SupplierSignedAt))
	} else if st.Total > 0 {
		d.begin("Terms")
		d.money("Total", st.Total)
	}
	if len(st.Payments) > 0 || st.Escrow != (workflows.Escrow{}) {
		d.begin("Money")
		for _, p := range st.Payments {
			d.money(strings.TrimSpace(fmt.Sprintf("%s %s, %s %s", p.Step, p.Kind, strings.ToLower(string(p.Status)), day(p.CreatedAt))), p.Amount)
		}
		d.money("Held in escrow", st.Escrow.Held)
		d.money("Released to the supplier", st.Escrow.Released)
		d.money("Platform commission", st.Escrow.Commission)
		d.money("Refunded to the buyer", st.Escrow.Refunded)
	}
	if sh := st.Shipment; sh != nil {
		d.begin("Shipment")
		d.line("Carrier", sh.Carrier)
		d.line("Tracking number", sh.TrackingNumber)
		d.line("Status", sh.Status)
		d.line("Shipped", day(sh.ShippedAt))
		d.line("Delivered", day(sh.DeliveredAt))
	}
	if ds := st.Dispute; ds != nil {
		d.begin("Dispute")
		d.line("Reason", ds.Reason)
		d.line("Asked for", ds.Remedy)
		d.line("Answer", ds.Answer)
		if dec := ds.Decision; dec != nil {
			d.line("Decision", dec.Outcome+" "+day(dec.At))
			if dec.Outcome == workflows.OutcomeSplit {
				d.money("Released by the decision", dec.ReleaseAmount)
			}
		}
	}
	return d.d
}

// Contract is the deal's contract as a document: its text, then its
// parties and signatures; ok is false when the deal has no contract (or
// the viewer may not read it).
func Contract(st workflows.DealState, names Names, at time.Time) (sheet.Document, bool) {
	c := st.Contract
	if c == nil || c.Text == "" {
		return sheet.Document{}, false
	}
	notes := []string{fmt.Sprintf("Tradeloop deal %s, printed %s. Terms SHA-256 %s.", st.DealID, stamp(at), c.TermsSHA256)}
	notes = append(notes, strings.Split(strings.TrimRight(c.Text, "\n"), "\n")...)
	d := newDoc("Contract: "+st.Inquiry.Product, st.Currency, notes...)
	d.d.Table.Header = []string{"Party", "Organization", "Signed"}
	d.d.Table.Rows = [][]string{
		{"Buyer", names.of(c.Terms.BuyerOrgID), signed(c.BuyerSignedAt)},
		{"Supplier", names.of(c.Terms.SupplierOrgID), signed(c.SupplierSignedAt)},
	}
	return d.d, true
}

func signed(t time.Time) string {
	if t.IsZero() {
		return "not yet"
	}
	return stamp(t)
}
