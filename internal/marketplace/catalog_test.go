package marketplace_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

const header = "sku,name,description,category,unit,moq,currency,price_tiers,lead_time_days,certifications,customizable,origin_region,sample_available,sample_price\n"

func readCSV(t *testing.T, s string) sheet.Table {
	t.Helper()
	tab, err := sheet.Read(strings.NewReader(s), sheet.CSV, sheet.Limits{Rows: marketplace.MaxImportRows})
	require.NoError(t, err)
	return tab
}

func countProducts(t *testing.T, m *marketplace.Market, supplier uuid.UUID) int {
	t.Helper()
	tab, err := m.Export(context.Background(), supplier)
	require.NoError(t, err)
	return len(tab.Rows)
}

func TestImportValidFileThenExportReimportsUnchanged(t *testing.T) {
	pool := testenv.Postgres(t)
	sup := seeder{t, pool}.org("Ningbo Lights", "supplier", time.Now())
	m := marketplace.New(pool)
	ctx := context.Background()

	file := header +
		`LED-100,LED panel 60x60,"Flat panel, 40 W, 4000 K",led-lighting,piece,100,USD,100:1250;500:1100;2000:990,21,CE;ISO 9001,yes,CN-ZJ,yes,2500` + "\n" +
		`LED-200,LED strip 5 m,,led-lighting,roll,50,USD,50:800,14,RoHS,no,CN,no,` + "\n" +
		`VAL-1,Brass ball valve,DN25,valves,piece,200,EUR,200:430;1000:390,30,,false,IN-GJ,true,0` + "\n"
	rep, err := m.Import(ctx, sup, readCSV(t, file), marketplace.ImportAll)
	require.NoError(t, err)
	assert.Equal(t, marketplace.ImportReport{Mode: marketplace.ImportAll, Applied: true, Rows: 3, Created: 3, Rejected: []marketplace.RejectedRow{}}, rep)

	exported, err := m.Export(ctx, sup)
	require.NoError(t, err)
	require.Len(t, exported.Rows, 3)
	assert.Equal(t, []string{"LED-100", "LED panel 60x60", "Flat panel, 40 W, 4000 K", "led-lighting", "piece", "100", "USD",
		"100:1250;500:1100;2000:990", "21", "CE;ISO 9001", "true", "CN-ZJ", "true", "2500"}, exported.Rows[0])

	// The export, written as XLSX and imported again, changes nothing but
	// counts every row as updated.
	var buf bytes.Buffer
	require.NoError(t, sheet.Write(&buf, sheet.XLSX, sheet.Document{Title: "Catalog", Table: exported}))
	back, err := sheet.Read(&buf, sheet.XLSX, sheet.Limits{Rows: marketplace.MaxImportRows})
	require.NoError(t, err)
	rep, err = m.Import(ctx, sup, back, marketplace.ImportAll)
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Created)
	assert.Equal(t, 3, rep.Updated)
	again, err := m.Export(ctx, sup)
	require.NoError(t, err)
	assert.Equal(t, exported.Rows, again.Rows)
}

func TestImportWithInvalidRowsIsAllOrNothingOrClearlyPartial(t *testing.T) {
	pool := testenv.Postgres(t)
	sup := seeder{t, pool}.org("Shenzhen Parts", "supplier", time.Now())
	m := marketplace.New(pool)
	ctx := context.Background()
	file := header +
		"OK-1,Good one,,valves,piece,10,USD,10:500,7,,no,CN,no,0\n" +
		"\n" + // a blank line still counts for line numbers
		"BAD-1,Price tiers out of order,,valves,piece,10,USD,100:500;50:400,7,,no,CN,no,0\n" +
		"BAD 2,Bad SKU and currency,,valves,piece,ten,XXX,10:500,7,,maybe,CN,no,0\n" +
		"OK-1,Same SKU twice,,valves,piece,10,USD,10:500,7,,no,CN,no,0\n" +
		"BAD-3,MOQ without a price,,valves,piece,5,USD,10:500,7,,no,China,no,300\n" +
		"OK-2,Another good one,,valves,piece,10,USD,10:500,7,,no,CN,no,0\n"

	rep, err := m.Import(ctx, sup, readCSV(t, file), marketplace.ImportAll)
	require.NoError(t, err)
	assert.False(t, rep.Applied)
	assert.Equal(t, 0, countProducts(t, m, sup), "an all-or-nothing import with a bad row writes nothing")
	lines := map[int][]string{}
	for _, r := range rep.Rejected {
		for _, e := range r.Errors {
			lines[r.Line] = append(lines[r.Line], e.Field)
		}
	}
	assert.Equal(t, map[int][]string{
		4: {"price_tiers"},
		5: {"moq", "customizable", "sku", "currency"},
		6: {"sku"},
		7: {"price_tiers", "origin_region", "sample_price"},
	}, lines)
	assert.Contains(t, rep.Rejected[2].Errors[0].Message, "line 2", "a duplicate SKU names the line that listed it first")

	rep, err = m.Import(ctx, sup, readCSV(t, file), marketplace.ImportPartial)
	require.NoError(t, err)
	assert.True(t, rep.Applied)
	assert.Equal(t, 2, rep.Created)
	assert.Len(t, rep.Rejected, 4)
	assert.Equal(t, 2, countProducts(t, m, sup))
}

func TestImportRefusesFilesItCannotReadWholly(t *testing.T) {
	pool := testenv.Postgres(t)
	sup := seeder{t, pool}.org("Acme", "supplier", time.Now())
	m := marketplace.New(pool)
	for name, file := range map[string]string{
		"a misspelt column":   strings.Replace(header, "lead_time_days", "leadtime", 1) + "A,B,,valves,piece,1,USD,1:1,1,,no,CN,no,0\n",
		"a missing column":    "sku,name\nA,B\n",
		"an empty header row": "sku,,name\nA,,B\n",
	} {
		t.Run(name, func(t *testing.T) {
			tab, err := sheet.Read(strings.NewReader(file), sheet.CSV, sheet.Limits{Rows: 100})
			if err != nil {
				require.ErrorIs(t, err, sheet.ErrMalformed)
				return
			}
			_, err = m.Import(context.Background(), sup, tab, marketplace.ImportPartial)
			var fe *marketplace.FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, 0, countProducts(t, m, sup))
		})
	}
	_, err := sheet.Read(strings.NewReader(header+"A,\"unterminated\n"), sheet.CSV, sheet.Limits{Rows: 100})
	require.ErrorIs(t, err, sheet.ErrMalformed)
	_, err = sheet.Read(strings.NewReader("PK\x03\x04 not really a zip"), sheet.XLSX, sheet.Limits{Rows: 100})
	require.ErrorIs(t, err, sheet.ErrMalformed)
}

func TestImportTenThousandRows(t *testing.T) {
	pool := testenv.Postgres(t)
	sup := seeder{t, pool}.org("Big Catalog", "supplier", time.Now())
	m := marketplace.New(pool)
	var b strings.Builder
	b.WriteString(header)
	for i := range 10_000 {
		fmt.Fprintf(&b, "SKU-%05d,Widget %d,,widgets,piece,%d,USD,%d:%d;%d:%d,%d,CE,no,CN,no,0\n",
			i, i, 10+i%90, 10+i%90, 1000+i, 1000+i%90, 900+i, 1+i%60)
	}
	tab := readCSV(t, b.String())
	for _, f := range []sheet.Format{sheet.CSV, sheet.XLSX} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, sheet.Write(&buf, f, sheet.Document{Title: "Catalog", Table: tab}))
			in, err := sheet.Read(&buf, f, sheet.Limits{Rows: marketplace.MaxImportRows})
			require.NoError(t, err)
			rep, err := m.Import(context.Background(), sup, in, marketplace.ImportAll)
			require.NoError(t, err)
			assert.Empty(t, rep.Rejected)
			assert.Equal(t, 10_000, rep.Created+rep.Updated)
			assert.Equal(t, 10_000, countProducts(t, m, sup))
		})
	}
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM products WHERE sku = 'SKU-00042' AND from_unit_minor = 1042 AND tier_unit_minor[2] = 942 AND moq = 52`).Scan(&n))
	assert.Equal(t, 1, n, "row 42 imported with its prices")
}

// TestValidateRefusesControlCharacters: a product's text follows the
// platform's rule, whether it comes as JSON or in a file.
func TestValidateRefusesControlCharacters(t *testing.T) {
	valid := marketplace.ProductInput{SKU: "A-1", Name: "Bolt", Description: "M8\tsteel\nzinc plated", Category: "fasteners", Unit: "piece",
		MOQ: 1, Currency: "USD", PriceTiers: []marketplace.PriceTier{{MinQuantity: 1, UnitPrice: 1}}, LeadTimeDays: 1, OriginRegion: "CN"}
	require.Empty(t, valid.Validate())
	bad := valid
	bad.Name, bad.Description, bad.Unit, bad.Certifications = "Bo\x00lt", "M8\rsteel", "pi\u0085ece", []string{"CE\x1b"}
	var fields []string
	for _, e := range bad.Validate() {
		fields = append(fields, e.Field)
		assert.Contains(t, e.Message, "control characters")
	}
	assert.Equal(t, []string{"name", "description", "unit", "certifications"}, fields)
}
