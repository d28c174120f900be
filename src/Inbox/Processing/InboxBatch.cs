namespace Inbox.Processing;

/// <summary>
/// The bookkeeping of one batch: which input messages are candidates (the first valid copy of each ID), which are
/// later copies of a candidate, which the database found new, and each one's result.
/// </summary>
internal sealed class InboxBatch<TMessage>
{
    private readonly InboxOutcome[] _outcomes;
    private readonly Exception?[] _errors;
    private readonly bool[] _new;
    private readonly int[] _firstCopy;

    private InboxBatch(string consumer, IReadOnlyList<TMessage> messages)
    {
        Consumer = consumer;
        Messages = messages;
        Descriptions = new InboxMessage[messages.Count];
        _outcomes = new InboxOutcome[messages.Count];
        _errors = new Exception?[messages.Count];
        _new = new bool[messages.Count];
        _firstCopy = new int[messages.Count];
    }

    public string Consumer { get; }

    public IReadOnlyList<TMessage> Messages { get; }

    public InboxMessage[] Descriptions { get; }

    /// <summary>Indexes of the first valid copy of each ID, in input order.</summary>
    public List<int> Candidates { get; } = [];

    public bool HasFingerprints { get; private set; }

    /// <summary>Whether the current attempt reached the handler: a failure after that is the batch's, not the store's.</summary>
    public bool HandlerStarted { get; set; }

    public static InboxBatch<TMessage> Plan<TDbContext>(
        string consumer,
        IReadOnlyList<TMessage> messages,
        Func<TMessage, InboxMessage> describe,
        InboxRuntime<TDbContext> runtime)
        where TDbContext : Microsoft.EntityFrameworkCore.DbContext
    {
        var batch = new InboxBatch<TMessage>(consumer, messages);
        var firstById = new Dictionary<string, int>(messages.Count, StringComparer.Ordinal);
        var options = runtime.Options;
        var maxLength = options.MaxIdLength;
        var now = runtime.Time.GetUtcNow();
        for (var i = 0; i < messages.Count; i++)
        {
            batch._firstCopy[i] = i;
            try
            {
                var description = describe(messages[i]);
                batch.Descriptions[i] = description;
                InboxInput.Validate(description.MessageId, maxLength, "messageId");
                if (firstById.TryAdd(description.MessageId, i))
                {
                    runtime.CheckLate(consumer, description, now, options);
                    batch.Candidates.Add(i);
                    batch.HasFingerprints |= description.Fingerprint is not null;
                }
                else
                {
                    batch._firstCopy[i] = firstById[description.MessageId];
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                batch._errors[i] = exception;
            }
        }

        return batch;
    }

    public void Reset()
    {
        HandlerStarted = false;
        Array.Clear(_new);
    }

    public InboxMessage[] SortedCandidates()
    {
        var sorted = new InboxMessage[Candidates.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = Descriptions[Candidates[i]];
        }

        // The same order in every transaction, so that two batches sharing IDs cannot deadlock.
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.MessageId, b.MessageId));
        return sorted;
    }

    /// <summary>Marks the inserted candidates new and the rest duplicates; returns the IDs of the rest.</summary>
    public List<string> MarkInserted(HashSet<string> inserted)
    {
        var known = new List<string>();
        foreach (var index in Candidates)
        {
            var id = Descriptions[index].MessageId;
            _new[index] = inserted.Contains(id);
            if (!_new[index])
            {
                _outcomes[index] = InboxOutcome.Duplicate;
                known.Add(id);
            }
        }

        return known;
    }

    public void MarkConflicts(Dictionary<string, byte[]?> stored)
    {
        foreach (var index in Candidates)
        {
            var description = Descriptions[index];
            if (!_new[index] && InboxFingerprint.Differs(stored.GetValueOrDefault(description.MessageId), description.Fingerprint))
            {
                _outcomes[index] = InboxOutcome.Conflict;
            }
        }
    }

    public List<int> NewMessages() => Candidates.FindAll(index => _new[index]);

    public List<TMessage> NewMessageValues() => NewMessages().ConvertAll(index => Messages[index]);

    public void MarkNewProcessed()
    {
        foreach (var index in Candidates)
        {
            if (_new[index])
            {
                _outcomes[index] = InboxOutcome.Processed;
            }
        }
    }

    public void SetOutcome(int index, InboxOutcome outcome) => _outcomes[index] = outcome;

    public void SetError(int index, Exception error) => _errors[index] = error;

    /// <summary>Resolves later copies from their first copy and returns the results in input order.</summary>
    public InboxBatchResult Complete()
    {
        var items = new InboxBatchItemResult[Messages.Count];
        for (var i = 0; i < items.Length; i++)
        {
            var id = Descriptions[i].MessageId;
            var first = _firstCopy[i];
            if (_errors[i] is not null || first == i)
            {
                items[i] = new InboxBatchItemResult(id, _outcomes[i], _errors[i]);
            }
            else if (_errors[first] is { } firstError)
            {
                items[i] = new InboxBatchItemResult(id, default, firstError);
            }
            else
            {
                var outcome = InboxFingerprint.Differs(Descriptions[first].Fingerprint, Descriptions[i].Fingerprint)
                    ? InboxOutcome.Conflict
                    : InboxOutcome.Duplicate;
                items[i] = new InboxBatchItemResult(id, outcome, null);
            }
        }

        return new InboxBatchResult(items);
    }
}
