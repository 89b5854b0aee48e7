package testenv

import "go.temporal.io/sdk/client"

func clientStartOptions(taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: "greet-" + randomSuffix(), TaskQueue: taskQueue}
}
