package workflows

import (
	"reflect"
	"testing"
	"time"
)

func TestScaledPolicyShortensEveryDeadlineButTheTrackingPolls(t *testing.T) {
	def := DefaultPolicy()
	p := Policy{TrackingPoll: 3 * time.Second}.Scaled(0.01)
	if p.QuoteSLA != 72*time.Second || p.InquiryExpiry != 72*36*time.Second || p.DepositDue != def.DepositDue/100 ||
		len(p.Reminders) != 2 || p.Reminders[0] != def.Reminders[0]/100 || p.Reminders[1] != def.Reminders[1]/100 {
		t.Errorf("quote SLA %s, inquiry %s, deposit %s", p.QuoteSLA, p.InquiryExpiry, p.DepositDue)
	}
	if p.TrackingPoll != 3*time.Second || p.TrackingPollNear != def.TrackingPollNear {
		t.Errorf("tracking polls changed: %s %s", p.TrackingPoll, p.TrackingPollNear)
	}
	if p.InitialInvites != def.InitialInvites || p.TrackingPollsPerRun != def.TrackingPollsPerRun {
		t.Errorf("counts changed: %+v", p)
	}
	if tiny := (Policy{}).Scaled(1e-9); tiny.QuoteSLA != time.Second || tiny.PaymentReconcile != time.Second || tiny.Reminders[0] != time.Second {
		t.Errorf("a scaled deadline went below a second: %+v", tiny)
	}
	if same := (Policy{}).Scaled(1); !reflect.DeepEqual(same, def) {
		t.Errorf("scale 1 changed the defaults: %+v", same)
	}
}
