using Microsoft.Extensions.Http;

namespace Inbox.Testing.Escapes;

/// <summary>Puts a recording handler first in every client <c>IHttpClientFactory</c> builds; the request still goes on.</summary>
internal sealed class RecordingHandlerFilter(EffectRecorder recorder) : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        builder.AdditionalHandlers.Insert(0, new RecordingHandler(recorder));
    };

    private sealed class RecordingHandler(EffectRecorder recorder) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            recorder.RecordRequest(request);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
