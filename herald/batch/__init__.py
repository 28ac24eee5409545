"""`herald batch`: many samples through the full agent, saved as resumable JSONL trajectories.

    samples   input rows, checked in full before anything runs
    output    the append-only output (fsync per row, torn-line repair)
    plan      resume keyed by (id, attempt)
    limit     the adaptive concurrency limit (AIMD on 429)
    jobs      Job in, Outcome out, the output row
    agent     the agent's settings, one attempt's accounts and its Outcome
    async_agent   the AsyncAIAgent that accounts for each concurrent attempt
    runner    the SampleRunner port and the local executor (isolation, time limits)
    async_runner  the SampleRunner: attempts as conversations on one async agent
    driver    prepare → execute: plan, run, write, retry
    tally / progress   counters, the summary, the progress display
    export    completed rows as OpenAI messages or ShareGPT
    ray_backend   the same job on a Ray cluster (herald[ray])
"""
