package api

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/dealdoc"
	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// ContractTemplateFormats are the contract template's downloads: a PDF to
// print and a Word file to edit.
var ContractTemplateFormats = []sheet.Format{sheet.PDF, sheet.DOCX}

// templateReader is who a contract template is worded for: the caller in
// ?lang= when given, else in the language and time zone of its settings.
func (s *Server) templateReader(c echo.Context) (texts.Reader, error) {
	u, err := s.identity.User(c.Request().Context(), principal(c).UserID)
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		return texts.Reader{}, err
	}
	r := texts.ReaderOf(u.Language, u.TimeZone)
	if v := c.QueryParam("lang"); v != "" {
		l, ok := texts.ParseLang(v)
		if !ok {
			return texts.Reader{}, invalid("lang", "one of %v", texts.Langs)
		}
		r.Lang = l
	}
	return r, nil
}

// contractTemplate sends the platform's contract template with blanks.
func (s *Server) contractTemplate(c echo.Context) error {
	f, err := fileFormat(c, ContractTemplateFormats...)
	if err != nil {
		return err
	}
	r, err := s.templateReader(c)
	if err != nil {
		return err
	}
	return s.sendFile(c, f, "contract-template-"+string(r.Lang), s.BlankContractTemplate(r))
}

// dealContractTemplate sends the contract template filled from a deal the
// caller may see.
func (s *Server) dealContractTemplate(c echo.Context) error {
	f, err := fileFormat(c, ContractTemplateFormats...)
	if err != nil {
		return err
	}
	r, err := s.templateReader(c)
	if err != nil {
		return err
	}
	d, err := s.ContractTemplate(c.Request().Context(), viewerOf(principal(c)), c.Param("id"), r)
	if err != nil {
		return err
	}
	return s.sendFile(c, f, FileName("contract-"+c.Param("id")+"-"+string(r.Lang)), d)
}

// BlankContractTemplate is the platform's contract template for r, with
// blanks for a deal's terms and the deals' policy's own figures.
func (s *Server) BlankContractTemplate(r texts.Reader) sheet.Document {
	return dealdoc.Template(r, dealdoc.RulesOf(s.policy))
}

// ContractTemplate is the contract template filled from deal id as viewer
// sees it, for r, or errNotFound: a deal viewer may not see, and one it
// sees only as closed (a supplier another was awarded it over), whose
// terms are none of its business.
func (s *Server) ContractTemplate(ctx context.Context, viewer dealview.Viewer, id string, r texts.Reader) (sheet.Document, error) {
	st, err := s.DealFor(ctx, viewer, id)
	if err != nil {
		return sheet.Document{}, err
	}
	if st.Stage == dealview.StageClosed {
		return sheet.Document{}, errNotFound
	}
	names, err := s.identity.OrgNames(ctx, st.Inquiry.BuyerOrgID, st.SupplierID)
	if err != nil {
		return sheet.Document{}, err
	}
	return dealdoc.TemplateFor(st, names, r, dealdoc.RulesOf(s.policy), time.Now()), nil
}

// FileName is name as a download's file name: letters, digits, "-" and
// "_" kept, anything else (quotes, slashes, spaces, characters a header
// cannot carry) as "_", at most 100 characters.
func FileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, name)
	if len(name) > 100 {
		name = name[:100]
	}
	return name
}
