using MassTransit;

namespace Inbox.MassTransit.Configuration;

/// <summary>The checks every inbox pipe specification makes when the bus is built.</summary>
internal static class InboxValidation
{
    public static IEnumerable<ValidationResult> Validate(ISpecification specification, InboxSelection selection)
    {
        if (selection.Validate() is { } failure)
        {
            yield return specification.Failure("Inbox", failure);
        }
    }
}
