using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inbox.Testing.Delivering;
using Microsoft.EntityFrameworkCore;

namespace Inbox.Testing;

/// <summary>
/// Proves an endpoint behind an <c>Idempotency-Key</c> applies each key once, from the outside, through an
/// <see cref="HttpClient"/> (a <c>WebApplicationFactory</c>'s, a <c>TestServer</c>'s, or one to a running server):
/// <c>IdempotencyScenario.For(client).Post("/payments", body).ShouldBeExactlyOnceAsync()</c>.
/// </summary>
public sealed class IdempotencyScenario
{
    private const string KeyHeader = "Idempotency-Key";
    private const string ReplayedHeader = "Idempotent-Replayed";
    private readonly HttpClient _client;
    private readonly List<(string Name, string Value)> _headers = [];
    private string? _path;
    private byte[]? _body;
    private int _copies = 8;
    private Func<CancellationToken, Task<long>>? _effects;
    private Func<CommitCrash>? _crash;

    private IdempotencyScenario(HttpClient client) => _client = client;

    /// <summary>Starts a scenario that sends its requests with <paramref name="client"/>.</summary>
    /// <param name="client">A client of the application, e.g. <c>factory.CreateClient()</c>.</param>
    /// <returns>The scenario, to describe the request with <see cref="Post(string, object)"/>.</returns>
    public static IdempotencyScenario For(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new IdempotencyScenario(client);
    }

    /// <summary>Describes the request: a POST of <paramref name="body"/> as JSON (web defaults, camelCase).</summary>
    /// <param name="path">The endpoint's path, relative to the client's base address.</param>
    /// <param name="body">The request body.</param>
    /// <returns>This scenario.</returns>
    public IdempotencyScenario Post(string path, object body)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(body);
        _path = path;
        _body = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), JsonSerializerOptions.Web);
        return this;
    }

    /// <summary>Adds a header to every request, e.g. the credentials the endpoint needs.</summary>
    /// <param name="name">The header's name.</param>
    /// <param name="value">Its value.</param>
    /// <returns>This scenario.</returns>
    public IdempotencyScenario WithHeader(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _headers.Add((name, value));
        return this;
    }

    /// <summary>Sets how many copies of a request go at the same time (at least 2; the default is 8).</summary>
    /// <param name="copies">The number of copies.</param>
    /// <returns>This scenario.</returns>
    public IdempotencyScenario WithConcurrentCopies(int copies)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 2);
        _copies = copies;
        return this;
    }

    /// <summary>
    /// Counts the endpoint's effects (e.g. <c>ct =&gt; db.Payments.LongCountAsync(ct)</c> on a DbContext of the test's
    /// own), so that each check also proves a key's effect happens once: as often as the first request made it.
    /// </summary>
    /// <param name="count">Reads how many effects there are now.</param>
    /// <returns>This scenario.</returns>
    public IdempotencyScenario CountingEffects(Func<CancellationToken, Task<long>> count)
    {
        ArgumentNullException.ThrowIfNull(count);
        _effects = count;
        return this;
    }

    /// <summary>
    /// Adds the check <b>Crash before the commit</b>: a request with a new key fails after the endpoint ran, just before
    /// the key's commit, as a crash there would fail it; then the client retries it with the same key. Nothing of the
    /// failed request may stay (an endpoint that writes outside the key's transaction, through a second DbContext or a
    /// connection of its own, leaves its writes), and the retry must run once. The application must run in this
    /// process (a <c>WebApplicationFactory</c> or a <c>TestServer</c>), and the effects must be counted
    /// (<see cref="CountingEffects"/>).
    /// </summary>
    /// <typeparam name="TDbContext">The DbContext the keys are kept in (<c>AddIdempotencyKeys&lt;TDbContext&gt;()</c>).</typeparam>
    /// <param name="applicationServices">The application's services, e.g. <c>factory.Services</c>.</param>
    /// <returns>This scenario.</returns>
    public IdempotencyScenario CrashingBeforeTheCommit<TDbContext>(IServiceProvider applicationServices)
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(applicationServices);
        _crash = () => CommitCrash.On<TDbContext>(applicationServices) ?? throw new InvalidOperationException(
            $"The application's services keep no idempotency keys in {typeof(TDbContext).Name}: pass the services of the application the client calls " +
            $"(factory.Services), which calls services.AddIdempotencyKeys<{typeof(TDbContext).Name}>().");
        return this;
    }

    /// <summary>
    /// Sends the request in three sequences (four with <see cref="CrashingBeforeTheCommit{TDbContext}"/>):
    /// <list type="number">
    /// <item><description><b>Same request twice</b>: the second answer is the first one replayed (same status and
    /// body, marked <c>Idempotent-Replayed: true</c>).</description></item>
    /// <item><description><b>Concurrent copies</b>, with a new key: one runs; each other copy is a replay of it or a
    /// 409 (in flight); afterwards the key replays the one that ran.</description></item>
    /// <item><description><b>Crash before the commit</b>, with a new key (see
    /// <see cref="CrashingBeforeTheCommit{TDbContext}"/>): nothing stays, and the retry runs once.</description></item>
    /// <item><description><b>Key reused with another body</b>, the first key: a 422, nothing run.</description></item>
    /// </list>
    /// With <see cref="CountingEffects"/>, each check also compares the effects.
    /// </summary>
    /// <param name="cancellationToken">Cancels the scenario.</param>
    /// <returns>The report of a scenario that passed (its <see cref="ExactlyOnceReport.Outbox"/> is empty: an endpoint's outbox is not read).</returns>
    /// <exception cref="ExactlyOnceException">A check failed; its message is the report.</exception>
    /// <exception cref="InvalidOperationException">No request was described, or a crash was asked for without counting the effects.</exception>
    public async Task<ExactlyOnceReport> ShouldBeExactlyOnceAsync(CancellationToken cancellationToken = default)
    {
        if (_path is null || _body is null)
        {
            throw new InvalidOperationException("Describe the request first: .Post(path, body).");
        }

        if (_crash is not null && _effects is null)
        {
            throw new InvalidOperationException("A crash before the commit is seen only in the effects: add .CountingEffects(ct => ...).");
        }

        var title = $"Idempotency scenario for POST {_path}";
        var checks = new List<ScenarioCheck>();

        // 1. The request, then the same request with the same key: the second is the first, replayed.
        var key = NewKey();
        var before = await CountAsync(cancellationToken).ConfigureAwait(false);
        var first = await SendAsync(key, _body, cancellationToken).ConfigureAwait(false);
        var effect = await CountAsync(cancellationToken).ConfigureAwait(false) - before;
        if (first.Status >= 500)
        {
            checks.Add(new ScenarioCheck("Same request twice", false, $"The first request answered {first}: a request that succeeds (or is refused, 4xx) is needed."));
            return new ExactlyOnceReport(title, checks, []);
        }

        var second = await SendAsync(key, _body, cancellationToken).ConfigureAwait(false);
        var afterSecond = await CountAsync(cancellationToken).ConfigureAwait(false);
        var twice = new List<string>();
        if (first.Replayed)
        {
            twice.Add($"The first request was already marked {ReplayedHeader}: the key was used before.");
        }

        if (!second.IsReplayOf(first))
        {
            twice.Add($"The second answer is not the first one replayed: first {first}; second {second}.");
        }

        if (_effects is not null && afterSecond != before + effect)
        {
            twice.Add($"The effects rose by {afterSecond - before} for one key (by {effect} after the first request).");
        }

        checks.Add(new ScenarioCheck(
            "Same request twice",
            twice.Count == 0,
            twice.Count == 0 ? $"First {first}; the second replayed it.{Effects(effect)}" : string.Join('\n', twice) + "\nIs RequireIdempotencyKey() on the endpoint, and app.UseIdempotencyKeys() before it?"));

        // 2. Copies with a new key at the same time: one runs, the others replay it or answer 409 while it runs.
        var concurrentKey = NewKey();
        var beforeCopies = await CountAsync(cancellationToken).ConfigureAwait(false);
        var answers = await Task.WhenAll(Enumerable.Range(0, _copies).Select(_ => SendAsync(concurrentKey, _body, cancellationToken))).ConfigureAwait(false);
        var ran = answers.Where(a => !a.Replayed && a.Status != (int)HttpStatusCode.Conflict).ToList();
        var after = await SendAsync(concurrentKey, _body, cancellationToken).ConfigureAwait(false);
        var copiesEffect = await CountAsync(cancellationToken).ConfigureAwait(false) - beforeCopies;
        var copies = new List<string>();
        if (ran.Count != 1)
        {
            copies.Add($"{ran.Count} of the {_copies} copies ran (answered without being a replay or a 409); one should have.");
        }
        else
        {
            copies.AddRange(answers.Where(a => a.Replayed && !a.IsReplayOf(ran[0])).Select(a => $"A replay differs from the answer that ran: {a} against {ran[0]}."));
            if (!after.IsReplayOf(ran[0]))
            {
                copies.Add($"Afterwards the key did not replay the answer that ran: {after} against {ran[0]}.");
            }
        }

        if (_effects is not null && copiesEffect != effect)
        {
            copies.Add($"The effects rose by {copiesEffect} for one key sent {_copies} times at once (by {effect} for one request).");
        }

        var tally = $"{_copies} copies at the same time: {ran.Count} ran, {answers.Count(a => a.Replayed)} replayed, {answers.Count(a => a.Status == (int)HttpStatusCode.Conflict && !a.Replayed)} answered 409.";
        checks.Add(new ScenarioCheck("Concurrent copies", copies.Count == 0, copies.Count == 0 ? tally + Effects(copiesEffect) : tally + "\n" + string.Join('\n', copies)));

        if (_crash is not null)
        {
            checks.Add(await CrashCheckAsync(_crash(), effect, cancellationToken).ConfigureAwait(false));
        }

        // 3. The first key with another body: refused (422), nothing run.
        var beforeOther = await CountAsync(cancellationToken).ConfigureAwait(false);
        var other = await SendAsync(key, OtherBody(_body), cancellationToken).ConfigureAwait(false);
        var otherEffect = await CountAsync(cancellationToken).ConfigureAwait(false) - beforeOther;
        var reused = other.Status == (int)HttpStatusCode.UnprocessableEntity && otherEffect == 0;
        checks.Add(new ScenarioCheck(
            "Key reused with another body",
            reused,
            reused
                ? "The first key with another body answered 422, and nothing ran."
                : $"The first key with another body answered {other}{(otherEffect != 0 ? $" and the effects rose by {otherEffect}" : "")}: it should be refused with 422, since the key stands for the first body."));

        var report = new ExactlyOnceReport(title, checks, []);
        return report.Passed ? report : throw new ExactlyOnceException(report);
    }

    // 4. A request failed just before its commit keeps nothing; its retry with the same key runs once.
    private async Task<ScenarioCheck> CrashCheckAsync(CommitCrash crash, long effect, CancellationToken cancellationToken)
    {
        const string Name = "Crash before the commit";
        var key = NewKey();
        var before = await CountAsync(cancellationToken).ConfigureAwait(false);
        string failed;
        bool fired;
        crash.Arm();
        try
        {
            failed = (await SendAsync(key, _body!, cancellationToken).ConfigureAwait(false)).ToString();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A TestServer without an exception handler throws the application's exception into the client.
            failed = $"{exception.GetType().Name}: {exception.Message}";
        }
        finally
        {
            fired = crash.Disarm();
        }

        if (!fired)
        {
            return new ScenarioCheck(Name, false, $"The request never reached the key's commit (it answered {failed}): is RequireIdempotencyKey() on the endpoint?");
        }

        var left = await CountAsync(cancellationToken).ConfigureAwait(false) - before;
        var retry = await SendAsync(key, _body!, cancellationToken).ConfigureAwait(false);
        var afterRetry = await CountAsync(cancellationToken).ConfigureAwait(false) - before;
        var again = await SendAsync(key, _body!, cancellationToken).ConfigureAwait(false);
        var problems = new List<string>();
        if (left != 0)
        {
            problems.Add(
                $"The request failed after the endpoint ran, just before the key's commit, so nothing should have stayed, but the effects rose by {left}: " +
                "the endpoint wrote outside the key's transaction (a second DbContext, a connection or transaction of its own). " +
                "Write through the request's own DbContext, the one the keys are kept in.");
        }

        if (retry.Replayed || retry.Status >= 500)
        {
            problems.Add($"The retry with the same key did not run: {retry}.");
        }
        else if (!again.IsReplayOf(retry))
        {
            problems.Add($"Afterwards the key did not replay the retry's answer: {again} against {retry}.");
        }

        if (afterRetry != effect)
        {
            problems.Add($"With the retry the effects rose by {afterRetry} in all (by {effect} for one request).");
        }

        var detail = $"The request failed just before its commit ({failed}); the effects then rose by {left}; the retry answered {retry}, and the effects rose by {afterRetry} in all.";
        return new ScenarioCheck(Name, problems.Count == 0, problems.Count == 0 ? detail : detail + "\n" + string.Join('\n', problems));
    }

    private static string NewKey() => $"scenario-{Guid.NewGuid():N}";

    // Another body for the same key: a JSON object gets one more property, anything else a trailing space.
    private static byte[] OtherBody(byte[] body)
        => JsonNode.Parse(body) is JsonObject json
            ? JsonSerializer.SerializeToUtf8Bytes(new JsonObject(json.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))) { ["idempotencyScenarioProbe"] = true })
            : [.. body, (byte)' '];

    private string Effects(long effect) => _effects is null ? "" : $" The effects rose by {effect}.";

    private async Task<long> CountAsync(CancellationToken cancellationToken)
        => _effects is null ? 0 : await _effects(cancellationToken).ConfigureAwait(false);

    private async Task<Answer> SendAsync(string key, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(KeyHeader, key);
        foreach (var (name, value) in _headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return new Answer(
            (int)response.StatusCode,
            await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false),
            response.Headers.Location?.ToString(),
            response.Headers.TryGetValues(ReplayedHeader, out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase));
    }

    private sealed record Answer(int Status, string Body, string? Location, bool Replayed)
    {
        public bool IsReplayOf(Answer original) => Replayed && Status == original.Status && Body == original.Body && Location == original.Location;

        public override string ToString()
            => $"{Status}{(Location is null ? "" : $" Location {Location}")}{(Replayed ? " (replayed)" : "")}, body {(Body.Length <= 200 ? Body : string.Concat(Body.AsSpan(0, 200), "…"))}";
    }
}
