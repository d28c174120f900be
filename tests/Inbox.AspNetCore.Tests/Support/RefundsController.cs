using Microsoft.AspNetCore.Mvc;

namespace Inbox.AspNetCore.Tests.Support;

/// <summary>An MVC action under [RequireIdempotencyKey]: a refund is a payment with a negative amount.</summary>
[ApiController]
[Route("refunds")]
public sealed class RefundsController(PaymentsDbContext db) : ControllerBase
{
    [HttpPost]
    [RequireIdempotencyKey]
    public IActionResult Refund(PaymentRequest request)
    {
        var refund = new Payment { OrderId = request.OrderId, Amount = -request.Amount };
        db.Payments.Add(refund);
        return Accepted(refund);
    }
}
