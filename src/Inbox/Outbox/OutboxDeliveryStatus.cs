namespace Inbox;

/// <summary>The outcome of one message's send.</summary>
public enum OutboxDeliveryStatus
{
    /// <summary>Acknowledged by the broker.</summary>
    Sent = 0,

    /// <summary>The broker could not be reached: retried later, not counted as an attempt.</summary>
    Unavailable = 1,

    /// <summary>The broker refused the message itself: counted; after <c>OutboxOptions.MaxAttempts</c> it is kept as failed.</summary>
    Refused = 2,
}
