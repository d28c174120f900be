using Microsoft.Extensions.Http;

namespace Inbox.Testing.Escapes;

/// <summary>Puts a recording handler first in every client <c>IHttpClientFactory</c> builds; the request still goes on.</summary>
internal sealed class RecordingHandlerFilter(HttpCallRecorder recorder) : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        builder.AdditionalHandlers.Insert(0, new RecordingHandler(recorder));
    };

    private sealed class RecordingHandler(HttpCallRecorder recorder) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            recorder.Record(request);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
