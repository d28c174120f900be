using System.ComponentModel;
using Inbox.Operations;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Inbox.Tool.Commands;

/// <summary>Which failed outbox messages a retry or delete acts on: <c>--id</c>, <c>--destination</c> or <c>--all</c>.</summary>
internal class OutboxSelectionSettings : ChangeSettings
{
    [CommandOption("--id <ID>")]
    [Description("One message, by its ID (as listed).")]
    public long? Id { get; set; }

    [CommandOption("--destination <DESTINATION>")]
    [Description("Every failed message to this topic or queue.")]
    public string? Destination { get; set; }

    [CommandOption("--key <KEY>")]
    [Description("With --destination: only those with this key (Kafka's record key; RabbitMQ's routing key, e.g. the queue of a message sent to amq.default).")]
    public string? Key { get; set; }

    [CommandOption("--all")]
    [Description("Every failed message.")]
    public bool All { get; set; }

    internal OutboxSelection Selection => (Id, Destination, All) switch
    {
        ({ } id, null, false) => OutboxSelection.Message(id),
        (null, { } destination, false) => OutboxSelection.Destination(destination, Key),
        (null, null, true) => OutboxSelection.All,
        _ => throw new System.Diagnostics.UnreachableException("Validate() lets exactly one of --id, --destination and --all through."),
    };

    public override ValidationResult Validate()
        => new[] { Id is not null, Destination is not null, All }.Count(x => x) != 1
            ? ValidationResult.Error("Name the messages with exactly one of --id, --destination or --all.")
            : Key is not null && Destination is null
                ? ValidationResult.Error("--key goes with --destination.")
                : ValidationResult.Success();
}
