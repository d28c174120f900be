// The Kafka tests measure rebalances and outages on a 2-core machine: one at a time keeps their timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
