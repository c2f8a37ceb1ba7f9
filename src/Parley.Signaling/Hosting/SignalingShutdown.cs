using Microsoft.Extensions.Hosting;

namespace Parley.Signaling;

/// <summary>On shutdown, closes every socket with 1001 so clients reconnect and resume elsewhere or after the restart.</summary>
internal sealed class SignalingShutdown(SignalingHub hub) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        hub.Shutdown();
        return Task.CompletedTask;
    }
}
