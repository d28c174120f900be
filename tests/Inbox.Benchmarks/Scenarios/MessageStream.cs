namespace Inbox.Benchmarks.Scenarios;

/// <summary>
/// A delivery sequence with a share of copies: half of them right after the original (back to back), half of them a
/// random earlier message (far apart). Seeded, so every variant sees the same stream. A copy is published as a message
/// of its own, as a producer's retry would be: a broker does not mark it redelivered.
/// </summary>
public static class MessageStream
{
    public static string[] Create(string run, int deliveries, double duplicateShare)
    {
        var random = new Random(42);
        var ids = new string[deliveries];
        var unique = 0;
        for (var i = 0; i < deliveries; i++)
        {
            if (i > 0 && random.NextDouble() < duplicateShare)
            {
                ids[i] = random.Next(2) == 0 ? ids[i - 1] : ids[random.Next(i)];
            }
            else
            {
                ids[i] = $"{run}-{unique++:D7}";
            }
        }

        return ids;
    }
}
