package workflows

import (
	"errors"

	"github.com/tradeloop/tradeloop/internal/bounds"
)

// Limits on what a party writes into a deal (the README's
// "Limits" table). Lengths count characters. The API checks them before it
// sends an action and the workflow's validators check them again.
const (
	MaxProduct        = 200    // inquiry product
	MaxCategory       = 64     // category slug
	MaxCode           = 40     // unit, incoterm, carrier
	MaxDestination    = 200    // inquiry destination
	MaxTrackingNumber = 64     // a carrier's tracking number
	MaxSpecs          = 10_000 // the buyer's custom specifications
	MaxNote           = 2_000  // notes, messages, reasons, remedies
	MaxDecisionNote   = 4_000  // a mediator's reasons
	MaxEvidenceItem   = 500    // one evidence reference (a URL or file name)
	MaxEvidence       = 20     // evidence references in one dispute
	MaxPriceTiers     = 20     // price tiers in one quote
	MaxSuppliers      = 20     // suppliers on one dispatch list
	MaxDispatchReason = 4_000  // the platform's explanation of a dispatch list
	MaxTrackEvents    = 200    // carrier events kept per shipment
)

// Caps on the actions a party can repeat on one deal. Past a cap the action
// is refused with RejectLimit.
const (
	MaxQuotesPerSupplier   = 10 // a supplier's quote and its revisions
	MaxCounterOffers       = 20 // the buyer's counter-offers, all suppliers together
	MaxProgressReports     = 30 // production progress reports
	MaxShipByExtensions    = 3  // the buyer's extensions of a late production
	MaxSampleRounds        = 3  // samples asked for, re-samples included
	MaxTrackingCorrections = 3  // corrections of one shipment's tracking number
	MaxProposalsPerParty   = 10 // settlement proposals by each party of a dispute
)

// invalidInput turns a broken bound into the validators' rejection.
func invalidInput(err error) error {
	if err == nil {
		return nil
	}
	var be *bounds.Error
	if errors.As(err, &be) {
		return reject(RejectInvalid, "%s %s", be.Field, be.Problem)
	}
	return reject(RejectInvalid, "%v", err)
}

func limitReached(format string, args ...any) error {
	return reject(RejectLimit, format, args...)
}

// first returns the first error of errs, or nil.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the inquiry's text against the limits.
func (q Inquiry) Validate() error {
	return first(
		bounds.Required("product", q.Product, MaxProduct, false),
		bounds.Line("category", q.Category, MaxCategory),
		bounds.Line("unit", q.Unit, MaxCode),
		bounds.Line("currency", q.Currency, 3),
		bounds.Line("destination", q.Destination, MaxDestination),
		bounds.Line("incoterm", q.Incoterm, MaxCode),
		bounds.Text("specs", q.Specs, MaxSpecs),
	)
}

// Validate checks a deal's start: the inquiry and the dispatch list.
func (in DealInput) Validate() error {
	errs := []error{
		in.Inquiry.Validate(),
		bounds.List("suppliers", len(in.Suppliers), MaxSuppliers),
		bounds.Text("dispatch", in.Dispatch, MaxDispatchReason),
	}
	for _, s := range in.Suppliers {
		errs = append(errs, bounds.Line("suppliers", s.OrgID, 64), bounds.Line("tier", s.Tier, MaxCode),
			bounds.Text("reason", s.Reason, MaxNote))
	}
	return first(errs...)
}

// Validate checks a quote's text and list lengths.
func (in QuoteInput) Validate() error {
	return first(bounds.List("tiers", len(in.Tiers), MaxPriceTiers), bounds.Text("note", in.Note, MaxNote))
}

// Validate checks the mediator named: one line, as long as an ID at most.
func (in AssignMediatorInput) Validate() error {
	return bounds.Required("mediator_id", in.MediatorID, MaxCode, false)
}

// Validate checks the reason for declining.
func (in DeclineInput) Validate() error { return bounds.Text("reason", in.Reason, MaxNote) }

// Validate checks a counter-offer's message.
func (in CounterOfferInput) Validate() error {
	return first(bounds.Line("supplier_id", in.SupplierID, 64), bounds.Text("message", in.Message, MaxNote))
}

// Validate checks the named quote.
func (in AcceptInput) Validate() error { return bounds.Line("quote_id", in.QuoteID, 64) }

// Validate checks an action's note.
func (in ActorInput) Validate() error { return bounds.Text("note", in.Note, MaxNote) }

// Validate checks a carrier and tracking number.
func (in ShipmentInput) Validate() error {
	return first(
		bounds.Required("carrier", in.Carrier, MaxCode, false),
		bounds.Required("tracking_number", in.TrackingNumber, MaxTrackingNumber, false),
	)
}

// Validate checks a sample's rejection reason.
func (in RejectSampleInput) Validate() error { return bounds.Text("reason", in.Reason, MaxNote) }

// Validate checks the signed hash.
func (in SignInput) Validate() error { return bounds.Line("terms_sha256", in.TermsSHA256, 64) }

// Validate checks a progress report's note.
func (in ProgressInput) Validate() error { return bounds.Text("note", in.Note, MaxNote) }

// Validate checks a dispute's reason, remedy and evidence.
func (in DisputeInput) Validate() error {
	errs := []error{
		bounds.Text("reason", in.Reason, MaxNote),
		bounds.Text("remedy", in.Remedy, MaxNote),
		bounds.List("evidence", len(in.Evidence), MaxEvidence),
	}
	for _, e := range in.Evidence {
		errs = append(errs, bounds.Required("evidence", e, MaxEvidenceItem, false))
	}
	return first(errs...)
}

// Validate checks a proposal's note.
func (in ProposalInput) Validate() error { return bounds.Text("note", in.Note, MaxNote) }

// Validate checks the named proposal.
func (in AcceptProposalInput) Validate() error { return bounds.Line("proposal_id", in.ProposalID, 64) }

// Validate checks a tracking correction.
func (in CorrectTrackingInput) Validate() error {
	return ShipmentInput{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber}.Validate()
}

// Validate checks a mediator's note.
func (in MediatorDecision) Validate() error { return bounds.Text("note", in.Note, MaxDecisionNote) }
