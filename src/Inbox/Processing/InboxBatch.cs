namespace Inbox.Processing;

/// <summary>
/// The bookkeeping of one batch: which input messages are candidates (the first valid copy of each ID), which are
/// later copies of a candidate, which are late, which the database found new, and each one's result.
/// </summary>
internal sealed class InboxBatch<TMessage>
{
    private readonly UnitOutcome[] _outcomes;
    private readonly Exception?[] _errors;
    private readonly bool[] _new;
    private readonly bool[] _late;
    private readonly bool[] _heldBack;
    private readonly int[] _firstCopy;

    private InboxBatch(string consumer, IReadOnlyList<TMessage> messages)
    {
        Consumer = consumer;
        Messages = messages;
        Descriptions = new InboxMessage[messages.Count];
        _outcomes = new UnitOutcome[messages.Count];
        _errors = new Exception?[messages.Count];
        _new = new bool[messages.Count];
        _late = new bool[messages.Count];
        _heldBack = new bool[messages.Count];
        _firstCopy = new int[messages.Count];
    }

    public string Consumer { get; }

    public IReadOnlyList<TMessage> Messages { get; }

    public InboxMessage[] Descriptions { get; }

    /// <summary>Indexes of the first valid copy of each ID, in input order.</summary>
    public List<int> Candidates { get; } = [];

    public bool HasFingerprints { get; private set; }

    /// <summary>Whether some candidates are late under <see cref="LateMessagePolicy.Reject"/>: looked up, not recorded.</summary>
    public bool HasHeldBack { get; private set; }

    /// <summary>Whether the current attempt reached the handler: a failure after that is the batch's, not the store's.</summary>
    public bool HandlerStarted { get; set; }

    public static InboxBatch<TMessage> Plan(
        string consumer,
        IReadOnlyList<TMessage> messages,
        Func<TMessage, InboxMessage> describe,
        InboxOptions options,
        DateTimeOffset now)
    {
        var batch = new InboxBatch<TMessage>(consumer, messages);
        var firstById = new Dictionary<string, int>(messages.Count, StringComparer.Ordinal);
        var maxLength = options.MaxIdLength;
        var rejectLate = options.LateMessagePolicy == LateMessagePolicy.Reject;
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
                    batch.Candidates.Add(i);
                    batch.HasFingerprints |= description.Fingerprint is not null;
                    batch._late[i] = description.IsLate(now, options.DeduplicationWindow);
                    batch._heldBack[i] = batch._late[i] && rejectLate;
                    batch.HasHeldBack |= batch._heldBack[i];
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

    public bool IsLate(int index) => _late[index];

    public UnitOutcome Outcome(int index) => _outcomes[index];

    public Exception? Error(int index) => _errors[index];

    public void Reset()
    {
        HandlerStarted = false;
        Array.Clear(_new);
        foreach (var index in Candidates)
        {
            _outcomes[index] = UnitOutcome.Processed;
        }
    }

    /// <summary>The candidates to record (not the unrecorded ones), sorted by ID: the same order in every transaction, so that two batches sharing IDs cannot deadlock.</summary>
    public InboxMessage[] SortedInsertable()
    {
        var sorted = new List<InboxMessage>(Candidates.Count);
        foreach (var index in Candidates)
        {
            if (!_heldBack[index] && !Descriptions[index].Unrecorded)
            {
                sorted.Add(Descriptions[index]);
            }
        }

        sorted.Sort(static (a, b) => string.CompareOrdinal(a.MessageId, b.MessageId));
        return [.. sorted];
    }

    /// <summary>Marks the inserted candidates new and the other recorded ones duplicates; returns the IDs of the latter.</summary>
    public List<string> MarkInserted(HashSet<string> inserted)
    {
        var known = new List<string>();
        foreach (var index in Candidates)
        {
            if (_heldBack[index])
            {
                continue;
            }

            var id = Descriptions[index].MessageId;
            _new[index] = Descriptions[index].Unrecorded || inserted.Contains(id);
            if (!_new[index])
            {
                _outcomes[index] = UnitOutcome.Duplicate;
                known.Add(id);
            }
        }

        return known;
    }

    /// <summary>The IDs of the late candidates the policy rejects, to be looked up rather than recorded.</summary>
    public IEnumerable<string> HeldBackIds()
    {
        foreach (var index in Candidates)
        {
            if (_heldBack[index])
            {
                yield return Descriptions[index].MessageId;
            }
        }
    }

    /// <summary>
    /// Applies what the table holds for the known IDs: a recorded ID with another fingerprint is a conflict; a held-back
    /// late message is a duplicate (or conflict) when recorded and rejected when not.
    /// </summary>
    public void MarkKnown(Dictionary<string, byte[]?> stored)
    {
        foreach (var index in Candidates)
        {
            var description = Descriptions[index];
            if (_new[index])
            {
                continue;
            }

            if (!stored.TryGetValue(description.MessageId, out var fingerprint))
            {
                if (_heldBack[index])
                {
                    _outcomes[index] = UnitOutcome.RejectedLate;
                }

                continue;
            }

            _outcomes[index] = InboxFingerprint.Differs(fingerprint, description.Fingerprint) ? UnitOutcome.Conflict : UnitOutcome.Duplicate;
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
                _outcomes[index] = UnitOutcome.Processed;
            }
        }
    }

    public void SetOutcome(int index, UnitOutcome outcome) => _outcomes[index] = outcome;

    public void SetError(int index, Exception error) => _errors[index] = error;

    /// <summary>The later copies of an ID in this batch whose content differs from the first copy's.</summary>
    public IEnumerable<int> ConflictingCopies()
    {
        for (var i = 0; i < Messages.Count; i++)
        {
            var first = _firstCopy[i];
            if (first != i && _errors[i] is null && _errors[first] is null &&
                InboxFingerprint.Differs(Descriptions[first].Fingerprint, Descriptions[i].Fingerprint))
            {
                yield return i;
            }
        }
    }

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
                items[i] = new InboxBatchItemResult(id, (InboxOutcome)_outcomes[i], _errors[i]);
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
