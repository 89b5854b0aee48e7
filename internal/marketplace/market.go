package marketplace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/watchlist"
)

// Market reads and writes the marketplace's tables.
type Market struct {
	db  *pgxpool.Pool
	now func() time.Time
}

// New returns the marketplace on a database.
func New(db *pgxpool.Pool) *Market { return &Market{db: db, now: time.Now} }

// ErrNotFound is returned for a product or supplier that does not exist.
var ErrNotFound = errors.New("not found")

// InvalidError is a product that cannot be listed, with every reason.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid product: %v", e.Fields)
}

// SaveProduct lists a product, or replaces the supplier's product with the
// same SKU. created says which.
func (m *Market) SaveProduct(ctx context.Context, supplier uuid.UUID, in ProductInput) (p Product, created bool, err error) {
	in.Normalize()
	if errs := in.Validate(); len(errs) > 0 {
		return Product{}, false, &InvalidError{Fields: errs}
	}
	var row store.UpsertProductBatchRow
	err = pgx.BeginFunc(ctx, m.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.EnsureSupplierProfile(ctx, supplier); err != nil {
			return fmt.Errorf("supplier profile of %s: %w", supplier, err)
		}
		var err error
		q.UpsertProductBatch(ctx, []store.UpsertProductBatchParams{in.upsertParams(supplier)}).QueryRow(
			func(_ int, r store.UpsertProductBatchRow, e error) { row, err = r, e })
		if err != nil {
			return fmt.Errorf("save product %s: %w", in.SKU, err)
		}
		return watchlist.Saved(ctx, q, supplier, []uuid.UUID{row.ID}, []string{in.Category})
	})
	if err != nil {
		return Product{}, false, err
	}
	p, err = m.Product(ctx, row.ID)
	return p, row.Created, err
}

// Product returns one product.
func (m *Market) Product(ctx context.Context, id uuid.UUID) (Product, error) {
	row, err := store.New(m.db).GetProduct(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, ErrNotFound
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	return productFromRow(row), nil
}

// DeleteProduct removes a supplier's product.
func (m *Market) DeleteProduct(ctx context.Context, supplier, id uuid.UUID) error {
	n, err := store.New(m.db).DeleteProduct(ctx, store.DeleteProductParams{ID: id, SupplierOrgID: supplier})
	if err != nil {
		return fmt.Errorf("delete product %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Export is a supplier's whole catalog as a file table in Columns order;
// importing it again changes nothing.
func (m *Market) Export(ctx context.Context, supplier uuid.UUID) (sheet.Table, error) {
	products, err := m.Catalog(ctx, supplier)
	if err != nil {
		return sheet.Table{}, err
	}
	t := sheet.Table{Header: Columns, Rows: make([][]string, len(products))}
	for i, p := range products {
		t.Rows[i] = p.Row()
	}
	return t, nil
}

// Catalog is a supplier's whole catalog, in SKU order.
func (m *Market) Catalog(ctx context.Context, supplier uuid.UUID) ([]Product, error) {
	rows, err := store.New(m.db).ListSupplierProducts(ctx, supplier)
	if err != nil {
		return nil, fmt.Errorf("list products of %s: %w", supplier, err)
	}
	out := make([]Product, len(rows))
	for i, r := range rows {
		out[i] = productFromRow(store.GetProductRow(r))
	}
	return out, nil
}

// ImportMode says what an import does with a file that has rejected rows.
type ImportMode string

// Import modes.
const (
	// ImportAll writes nothing unless every row is valid (the default).
	ImportAll ImportMode = "all"
	// ImportPartial writes the valid rows and reports the rejected ones.
	ImportPartial ImportMode = "partial"
)

// MaxImportRows is the most data rows one import file may have.
const MaxImportRows = 25_000

// ImportLimits bound what an import reads of its file, and so the memory it
// takes: 25,000 rows; a header of up to 64 columns (the catalog has 14;
// the others are named in the refusal); 1,000,000 cells, empty ones
// included; 8,000 characters a cell (a description may have 5,000, and a
// longer one is a row's error in the report).
var ImportLimits = sheet.Limits{Rows: MaxImportRows, Columns: 64, Cells: 1_000_000, CellChars: 8_000}

// RejectedRow is a file row that was not imported, and why.
type RejectedRow struct {
	Line   int          `json:"line"`
	SKU    string       `json:"sku"`
	Errors []FieldError `json:"errors"`
}

// ImportReport is what an import did.
type ImportReport struct {
	Mode ImportMode `json:"mode"`
	// Applied says whether anything was written: false when an
	// all-or-nothing import had a rejected row.
	Applied  bool          `json:"applied"`
	Rows     int           `json:"rows"`
	Created  int           `json:"created"`
	Updated  int           `json:"updated"`
	Rejected []RejectedRow `json:"rejected"`
}

// FileError is a file whose header cannot be imported at all.
type FileError struct{ Reason string }

func (e *FileError) Error() string { return "catalog file: " + e.Reason }

// Import lists or replaces (by SKU) a supplier's products from a file. Every
// row is validated first; in ImportAll mode one rejected row means nothing
// is written, in ImportPartial mode the valid rows are written in one
// transaction and the report names every rejected row and why.
func (m *Market) Import(ctx context.Context, supplier uuid.UUID, t sheet.Table, mode ImportMode) (ImportReport, error) {
	if mode == "" {
		mode = ImportAll
	}
	if mode != ImportAll && mode != ImportPartial {
		return ImportReport{}, &FileError{Reason: fmt.Sprintf("mode %q: want %q or %q", mode, ImportAll, ImportPartial)}
	}
	col, err := headerIndex(t.Header)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Mode: mode, Rows: len(t.Rows), Rejected: []RejectedRow{}}
	var valid []store.UpsertProductBatchParams
	firstLine := map[string]int{} // SKU → line that listed it first
	for i, cells := range t.Rows {
		line := i + 2
		if i < len(t.RowLine) {
			line = t.RowLine[i]
		}
		cell := func(name string) string {
			if j, ok := col[name]; ok && j < len(cells) {
				return cells[j]
			}
			return ""
		}
		p, errs := parseRow(cell)
		p.Normalize()
		for _, v := range p.Validate() {
			if !slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == v.Field }) {
				errs = append(errs, v)
			}
		}
		if len(cells) > len(t.Header) {
			errs = append(errs, FieldError{Field: "row", Message: fmt.Sprintf("%d cells for %d columns", len(cells), len(t.Header))})
		}
		if prev, dup := firstLine[p.SKU]; dup && p.SKU != "" {
			errs = append(errs, FieldError{Field: "sku", Message: fmt.Sprintf("%s is listed on line %d already", p.SKU, prev)})
		} else {
			firstLine[p.SKU] = line
		}
		if len(errs) > 0 {
			rep.Rejected = append(rep.Rejected, RejectedRow{Line: line, SKU: p.SKU, Errors: dedupe(errs)})
			continue
		}
		valid = append(valid, p.upsertParams(supplier))
	}
	if len(valid) == 0 || (mode == ImportAll && len(rep.Rejected) > 0) {
		return rep, nil
	}
	err = pgx.BeginFunc(ctx, m.db, func(tx pgx.Tx) error {
		var batchErr error
		if err := store.New(tx).EnsureSupplierProfile(ctx, supplier); err != nil {
			return fmt.Errorf("supplier profile of %s: %w", supplier, err)
		}
		res := store.New(tx).UpsertProductBatch(ctx, valid)
		saved := make([]uuid.UUID, 0, len(valid))
		res.QueryRow(func(i int, r store.UpsertProductBatchRow, err error) {
			switch {
			case batchErr != nil:
			case err != nil:
				batchErr = fmt.Errorf("row with SKU %s: %w", valid[i].Sku, err)
			case r.Created:
				rep.Created++
			default:
				rep.Updated++
			}
			saved = append(saved, r.ID)
		})
		if err := res.Close(); err != nil && batchErr == nil {
			batchErr = err
		}
		if batchErr != nil {
			return batchErr
		}
		categories := make([]string, 0, len(valid))
		for _, v := range valid {
			if !slices.Contains(categories, v.Category) {
				categories = append(categories, v.Category)
			}
		}
		return watchlist.Saved(ctx, store.New(tx), supplier, saved, categories)
	})
	if err != nil {
		return ImportReport{}, fmt.Errorf("import %d products: %w", len(valid), err)
	}
	rep.Applied = true
	return rep, nil
}

// headerIndex maps a file's column names to their positions, refusing
// unknown columns (a misspelt one would otherwise be dropped silently) and
// missing required ones.
func headerIndex(header []string) (map[string]int, error) {
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[h] = i
	}
	for _, h := range header {
		known := false
		for _, c := range Columns {
			known = known || c == h
		}
		if !known {
			return nil, &FileError{Reason: fmt.Sprintf("unknown column %q (the columns are %v)", h, Columns)}
		}
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, &FileError{Reason: fmt.Sprintf("the header has no %q column", c)}
		}
	}
	return col, nil
}

// dedupe drops repeated reasons about the same field and message, as when
// a cell could not be read and then also failed validation.
func dedupe(errs []FieldError) []FieldError {
	out := errs[:0:0]
	seen := map[FieldError]bool{}
	for _, e := range errs {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}
