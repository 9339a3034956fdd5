package main

import (
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// retention is what the pruner deletes, in this order (deliveries before
// the notifications they reference), and after how long.
func retention(r config.Retention) engine.RetentionOptions {
	return engine.RetentionOptions{Interval: r.Interval, Batch: r.Batch, Rules: []engine.RetentionRule{
		{PruneRule: store.PruneDeliveries, Keep: r.Deliveries},
		{PruneRule: store.PruneNotifications, Keep: r.Deliveries},
		{PruneRule: store.PruneReminders, Keep: r.Reminders},
		{PruneRule: store.PrunePublished, Keep: r.PublishedEvents},
		{PruneRule: store.PrunePendingUpdates, Keep: r.PendingUpdates},
		{PruneRule: store.PruneAudit, Keep: r.Audit},
	}}
}
