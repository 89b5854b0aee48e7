package workflows

import "github.com/tradeloop/tradeloop/internal/notice"

// Every stage change reaches both parties (deals from dealStageNotices):
// a party that the change's own notifications do not reach (the deposit
// due goes to the buyer; the supplier hears nothing of it) is told the
// stage in a notification of kind stage_changed, made with the round of
// bookkeeping that carries the change.

// dealStageNotices is versionDeal's version 3 (books.go).
const dealStageNotices = dealConfirmsAhead

// stageChanged notes the change to s, to tell the parties of with the
// next round. The deal's opening stage is not told: the buyer made it,
// and the invited suppliers hear of the inquiry.
func (d *deal) stageChanged(s Stage) {
	if d.features < dealStageNotices || s == StageQuoting || s == d.state.Stage {
		return
	}
	d.stageNotice = s
}

// noticeStageChange tells each party that no notification since the last
// round reaches (the change's own, queued before it or after) of the
// stage the deal is in now.
func (d *deal) noticeStageChange() {
	if d.stageNotice != "" {
		reached := map[string]bool{}
		for _, note := range d.outbox[min(d.roundFrom, len(d.outbox)):] {
			reached[note.OrgID] = true
		}
		facts := notice.Facts{Product: d.in.Inquiry.Product, Stage: string(d.state.Stage)}
		for _, org := range []string{d.in.Inquiry.BuyerOrgID, d.state.SupplierID} {
			if org != "" && !reached[org] {
				d.notify(org, "stage_changed", facts)
			}
		}
		d.stageNotice = ""
	}
	d.roundFrom = len(d.outbox)
}
