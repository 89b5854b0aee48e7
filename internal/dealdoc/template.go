package dealdoc

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

// Blank is what a template prints where a term is to be filled in.
const Blank = "____________"

// Clauses are the platform's standard clauses in the order a contract
// template prints them; each is worded in the texts catalogs as
// contract.<clause> under the heading contract.<clause>.heading.
var Clauses = []string{"parties", "goods", "payment", "delivery", "quality", "inspection", "late", "force", "disputes", "signatures"}

// Rules are the platform's own figures a contract template states where
// a deal has not fixed them: those of the Policy deals run under.
type Rules struct {
	// InspectionDays is how long the buyer has to inspect delivered goods
	// before silence accepts them.
	InspectionDays int
}

// RulesOf are p's figures, the platform's defaults where p leaves one out
// (as the deal workflow takes them).
func RulesOf(p workflows.Policy) Rules {
	window := p.InspectionWindow
	if window <= 0 {
		window = workflows.DefaultPolicy().InspectionWindow
	}
	return Rules{InspectionDays: int(window / (24 * time.Hour))}
}

// contractTerms are the figures and names the clauses read, each as it
// prints (Blank where it is to be filled in).
type contractTerms struct {
	Buyer, Supplier                    string
	Product, Specs, Quantity, Unit     string
	UnitPrice, Total, Deposit, Balance string
	DepositPercent, BalancePercent     int
	Incoterm, Destination              string
	ShipBy, LeadTime, InspectionDays   string
	DealID, Made, SHA256               string
	// signedBy is when the buyer and the supplier signed on the platform,
	// in words ("" for not yet).
	signedBy [2]string
}

func blankTerms(rules Rules) contractTerms {
	t := contractTerms{DepositPercent: money.DepositPercent, BalancePercent: 100 - money.DepositPercent,
		InspectionDays: strconv.Itoa(rules.InspectionDays), Specs: Blank}
	for _, f := range []*string{&t.Buyer, &t.Supplier, &t.Product, &t.Quantity, &t.Unit, &t.UnitPrice, &t.Total, &t.Deposit,
		&t.Balance, &t.Incoterm, &t.Destination, &t.ShipBy, &t.LeadTime} {
		*f = Blank
	}
	return t
}

// Template is the platform's standard purchase contract for r to fill in:
// every clause, and blanks for the parties, the goods and the figures of
// a deal; the platform's own figures (the deposit's share, rules'
// inspection period) as they are.
func Template(r texts.Reader, rules Rules) sheet.Document {
	return templateDocument(r, blankTerms(rules), texts.Phrase(r, "contract.intro.blank", nil))
}

// TemplateFor is the template filled from the deal st as its viewer sees
// it, for r, made at: the parties by name, the goods, and the terms of its
// contract and the contract's SHA-256 when it has one, else those of its
// accepted quote; a term the deal has not fixed yet stays blank.
func TemplateFor(st workflows.DealState, names Names, r texts.Reader, rules Rules, at time.Time) sheet.Document {
	t := blankTerms(rules)
	t.DealID, t.Made = st.DealID, texts.Time(r, at)
	in := st.Inquiry
	fill := func(dst *string, v string) {
		if v = plain(v); v != "" {
			*dst = v
		}
	}
	fill(&t.Buyer, names.of(in.BuyerOrgID))
	fill(&t.Product, in.Product)
	t.Specs = ""
	fill(&t.Specs, in.Specs)
	if in.Quantity > 0 {
		t.Quantity = money.Count(in.Quantity)
	}
	fill(&t.Unit, in.Unit)
	fill(&t.Incoterm, in.Incoterm)
	fill(&t.Destination, in.Destination)
	if !in.ShipBy.IsZero() {
		t.ShipBy = texts.Day(r, in.ShipBy)
	} else {
		t.ShipBy = ""
	}
	amounts := func(unit, total, deposit, balance int64, currency string) {
		t.UnitPrice, t.Total = money.Format(unit, currency), money.Format(total, currency)
		t.Deposit, t.Balance = money.Format(deposit, currency), money.Format(balance, currency)
	}
	if st.SupplierID != "" {
		fill(&t.Supplier, names.of(st.SupplierID))
		for _, q := range st.Quotes {
			if q.ID == st.AcceptedQuoteID && q.SupplierID == st.SupplierID && st.Total > 0 {
				amounts(q.UnitPrice, st.Total, st.Deposit, st.Balance, st.Currency)
				t.LeadTime = strconv.Itoa(q.LeadTimeDays)
			}
		}
	}
	if c := st.Contract; c != nil {
		ct := c.Terms
		fill(&t.Buyer, names.of(ct.BuyerOrgID))
		fill(&t.Supplier, names.of(ct.SupplierOrgID))
		fill(&t.Product, ct.Product)
		if ct.Specs != "" {
			t.Specs = plain(ct.Specs)
		}
		t.Quantity = money.Count(ct.Quantity)
		fill(&t.Unit, ct.Unit)
		amounts(ct.UnitPrice, ct.Total, ct.Deposit, ct.Balance, ct.Currency)
		if ct.DepositPercent > 0 {
			t.DepositPercent, t.BalancePercent = ct.DepositPercent, 100-ct.DepositPercent
		}
		fill(&t.Incoterm, ct.Incoterm)
		fill(&t.Destination, ct.Destination)
		t.ShipBy = ""
		if !ct.ShipBy.IsZero() {
			t.ShipBy = texts.Day(r, ct.ShipBy)
		}
		t.LeadTime = strconv.Itoa(ct.LeadTimeDays)
		t.InspectionDays = strconv.Itoa(ct.InspectionDays)
		t.SHA256 = c.TermsSHA256
		t.signedBy = [2]string{signedOn(r, c.BuyerSignedAt), signedOn(r, c.SupplierSignedAt)}
	}
	if t.ShipBy == "" && t.LeadTime == Blank {
		t.ShipBy = Blank // neither fixed: both blanks print
	}
	return templateDocument(r, t, texts.Phrase(r, "contract.intro.deal", t))
}

func signedOn(r texts.Reader, at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return texts.Phrase(r, "contract.signed", texts.Day(r, at))
}

// templateDocument is the contract of terms t in r's words: the title, the
// introduction, each clause under its numbered heading, and a table to
// sign.
func templateDocument(r texts.Reader, t contractTerms, intro string) sheet.Document {
	d := sheet.Document{Title: texts.Phrase(r, "contract.title", nil), Notes: []string{intro}, Headings: map[int]bool{}}
	for i, c := range Clauses {
		d.Headings[len(d.Notes)] = true
		d.Notes = append(d.Notes, fmt.Sprintf("%d. %s", i+1, texts.Phrase(r, "contract."+c+".heading", nil)),
			texts.Phrase(r, "contract."+c, t))
	}
	date := func(signed string) string {
		if signed != "" {
			return signed
		}
		return Blank
	}
	d.Table = sheet.Table{
		Header: []string{texts.Phrase(r, "contract.column.party", nil), texts.Phrase(r, "contract.column.organization", nil),
			texts.Phrase(r, "contract.column.signature", nil), texts.Phrase(r, "contract.column.date", nil)},
		Rows: [][]string{
			{texts.Phrase(r, "contract.buyer", nil), t.Buyer, Blank, date(t.signedBy[0])},
			{texts.Phrase(r, "contract.supplier", nil), t.Supplier, Blank, date(t.signedBy[1])},
		},
	}
	return d
}

// plain is a text a party wrote as a contract prints it: on one line,
// without control characters, and without the Unicode characters that
// change the direction of the text around them (a name must not turn a
// clause's figures around); "" stays "".
func plain(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
