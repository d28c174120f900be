namespace Inbox;

/// <summary>What became of one message a transport tried to send.</summary>
public readonly struct OutboxDelivery
{
    private OutboxDelivery(OutboxDeliveryStatus status, string? error)
    {
        Status = status;
        Error = error;
    }

    /// <summary>Gets the outcome.</summary>
    public OutboxDeliveryStatus Status { get; }

    /// <summary>Gets why it was not sent, or <see langword="null"/>.</summary>
    public string? Error { get; }

    /// <summary>The broker acknowledged it: the dispatcher deletes its row.</summary>
    public static OutboxDelivery Sent { get; } = new(OutboxDeliveryStatus.Sent, null);

    /// <summary>The broker could not be reached or did not answer in time: not the message's fault; it is sent again later.</summary>
    /// <param name="reason">What went wrong.</param>
    /// <returns>The delivery.</returns>
    public static OutboxDelivery Unavailable(string reason) => new(OutboxDeliveryStatus.Unavailable, reason);

    /// <summary>The broker refused this message (too large, unknown destination): counts towards <c>OutboxOptions.MaxAttempts</c>.</summary>
    /// <param name="reason">What the broker said.</param>
    /// <returns>The delivery.</returns>
    public static OutboxDelivery Refused(string reason) => new(OutboxDeliveryStatus.Refused, reason);
}
