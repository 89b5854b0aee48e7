package dealdoc

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/pdftext"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/workflows"
)

func completed() workflows.DealState {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return workflows.DealState{
		DealID: "d1", Stage: workflows.StageCompleted, Currency: "USD", SupplierID: "s1", Total: 780_000,
		Inquiry: workflows.Inquiry{BuyerOrgID: "b1", Product: "cotton t-shirts", Quantity: 2000, Unit: "pcs", Destination: "Hamburg"},
		Contract: &workflows.Contract{Text: "Sale of 2000 pcs.\nQuality as sampled.", TermsSHA256: "abc123", BuyerSignedAt: t0, SupplierSignedAt: t0,
			Terms: workflows.ContractTerms{BuyerOrgID: "b1", SupplierOrgID: "s1", UnitPrice: 390, Total: 780_000, DepositPercent: 30, Deposit: 234_000,
				Balance: 546_000, LeadTimeDays: 21, InspectionDays: 7}},
		Payments: []workflows.Payment{{Step: "deposit", Kind: workflows.PaymentCharge, Amount: 234_000, Status: workflows.PaymentSucceeded, CreatedAt: t0},
			{Kind: workflows.PaymentTransfer, Amount: 764_400, Status: workflows.PaymentSucceeded, CreatedAt: t0}},
		Escrow:   workflows.Escrow{Released: 764_400, Commission: 15_600},
		Shipment: &workflows.Shipment{Carrier: "dhl", TrackingNumber: "T1", Status: "delivered", ShippedAt: t0, DeliveredAt: t0.Add(72 * time.Hour)},
	}
}

// The summary reads as a document: organizations by name, money as
// people write it (numbers in XLSX), days in words, stage in words; every
// format renders it.
func TestSummaryReadsAsADocument(t *testing.T) {
	d := Summary(completed(), Names{"b1": "Buyer GmbH", "s1": "Supplier Co"}, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC))
	var all strings.Builder
	for _, r := range d.Table.Rows {
		all.WriteString(strings.Join(r, " | ") + "\n")
	}
	text := strings.Join(d.Notes, "\n") + "\n" + all.String()
	for _, want := range []string{"Buyer GmbH", "Supplier Co", "USD 3.90", "USD 7,800.00", "Deposit (30 %) | USD 2,340.00", "4 March 2026",
		"completed", "9 March 2026, 10:00 UTC", "Platform commission | USD 156.00", "transfer, succeeded"} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "| b1") || strings.Contains(text, "| s1") {
		t.Errorf("an organization by its ID:\n%s", text)
	}
	if len(d.Numbers) < 6 {
		t.Errorf("%d money cells as numbers, want every amount", len(d.Numbers))
	}
	for _, f := range []sheet.Format{sheet.CSV, sheet.XLSX, sheet.PDF} {
		var buf bytes.Buffer
		if err := sheet.Write(&buf, f, d); err != nil || buf.Len() == 0 {
			t.Errorf("as %s: %v", f, err)
		}
	}
}

// The contract document is its text and both signatures; a deal without a
// contract, or one whose text the viewer may not read, has none.
func TestContractDocument(t *testing.T) {
	d, ok := Contract(completed(), Names{"b1": "Buyer GmbH"}, time.Now())
	if !ok || !strings.Contains(strings.Join(d.Notes, "\n"), "Quality as sampled.") || d.Table.Rows[0][1] != "Buyer GmbH" || d.Table.Rows[1][1] != "s1" {
		t.Fatalf("contract %v: notes %q rows %q", ok, d.Notes, d.Table.Rows)
	}
	st := completed()
	st.Contract.Text = ""
	if _, ok := Contract(st, nil, time.Now()); ok {
		t.Error("a contract without its text made a document")
	}
	st.Contract = nil
	if _, ok := Contract(st, nil, time.Now()); ok {
		t.Error("a deal without a contract made a document")
	}
}

// The summary and the contract of a deal between Chinese organizations,
// for a product named in Chinese, print the names as written (in the PDF
// font, embedded, each character with its glyph), not as "?".
func TestDocumentsPrintChineseNames(t *testing.T) {
	font, err := sheet.LoadFont(pdftext.DroidFontPath(t))
	if err != nil {
		t.Fatal(err)
	}
	st := completed()
	st.Inquiry.Product = "纯棉T恤"
	st.Contract.Text = "买卖双方同意以下条款。\n货物须符合样品质量。"
	names := Names{"b1": "上海纺织品进出口有限公司", "s1": "深圳华强电子有限公司"}
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	contract, _ := Contract(st, names, at)
	for doc, d := range map[string]sheet.Document{"summary": Summary(st, names, at), "contract": contract} {
		var buf bytes.Buffer
		if err := (sheet.Writer{Font: font}).Write(&buf, sheet.PDF, d); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		pieces, err := pdftext.Read(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		text := pdftext.Text(pieces)
		want := []string{"上海纺织品进出口有限公司", "深圳华强电子有限公司", "纯棉T恤"}
		if doc == "contract" {
			want = append(want, "买卖双方同意以下条款。", "货物须符合样品质量。")
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("the %s lacks %q:\n%s", doc, w, text)
			}
		}
		if strings.ContainsAny(text, "?\uFFFD") {
			t.Errorf("the %s prints a character as ? or without its glyph:\n%s", doc, text)
		}
	}
}
