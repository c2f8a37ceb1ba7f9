namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// Test-side instrumentation, installed before the app loads: it remembers every RTCPeerConnection the page
/// creates (a transparent Proxy on the constructor), so a test can see negotiation state the UI's hooks do
/// not expose, such as whether an ICE restart really completed.
/// </summary>
internal static class PeerConnectionProbe
{
    public const string InitScript = """
        (() => {
          const connections = [];
          window.__parleyTestConnections = connections;
          window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
            construct(target, args, newTarget) {
              const connection = Reflect.construct(target, args, newTarget);
              connections.push(connection);
              return connection;
            },
          });
        })();
        """;

    /// <summary>
    /// Every peer connection in a call with a peer (not closed, with a remote description: the spare answering connection
    /// and a prepared offer nobody answered are left out): signaling state, connection state, local ICE ufrag.
    /// </summary>
    public const string Read = """
        () => JSON.stringify(window.__parleyTestConnections
          .filter(pc => pc.connectionState !== 'closed' && pc.remoteDescription !== null)
          .map(pc => ({
            signalingState: pc.signalingState,
            connectionState: pc.connectionState,
            localIceUfrag: /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1] ?? null,
          })))
        """;
}

/// <summary>One RTCPeerConnection as <see cref="PeerConnectionProbe"/> sees it.</summary>
internal sealed record PeerConnectionState(string SignalingState, string ConnectionState, string? LocalIceUfrag)
{
    /// <summary>Negotiation finished (no offer pending) and the connection up.</summary>
    public bool IsSettled => SignalingState == "stable" && ConnectionState == "connected";
}
