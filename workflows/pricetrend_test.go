package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
)

// The scheduled run takes the day just ended, retrying a failure; a run
// given a day takes that day; a bad day is refused without a take.
func TestPriceIndexSnapshotTakesTheDay(t *testing.T) {
	run := func(in PriceIndexInput) ([]string, int64, error) {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
		env.SetStartTime(time.Date(2026, 11, 21, 0, 5, 0, 0, time.UTC))
		RegisterPriceTrends(env)
		var days []string
		env.RegisterActivity(&activities.Activities{
			PriceIndex: func(_ context.Context, day, _ time.Time) (int64, error) {
				days = append(days, day.Format(time.DateOnly))
				if len(days) == 1 {
					return 0, errors.New("the database went away")
				}
				return 3, nil
			},
		})
		env.ExecuteWorkflow(PriceIndexWorkflowName, in)
		require.True(t, env.IsWorkflowCompleted())
		if err := env.GetWorkflowError(); err != nil {
			return days, 0, err
		}
		var n int64
		require.NoError(t, env.GetWorkflowResult(&n))
		return days, n, nil
	}

	days, n, err := run(PriceIndexInput{})
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-20", "2026-11-20"}, days)
	require.EqualValues(t, 3, n)

	days, _, err = run(PriceIndexInput{Day: "2026-11-21"})
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-21", "2026-11-21"}, days)

	days, _, err = run(PriceIndexInput{Day: "21/11/2026"})
	require.Error(t, err)
	require.Empty(t, days)
}
