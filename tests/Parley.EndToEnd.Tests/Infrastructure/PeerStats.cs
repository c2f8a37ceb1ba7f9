namespace Parley.EndToEnd.Infrastructure;

/// <summary>One remote peer as <c>window.parley.stats()</c> reports it (the UI test contract).</summary>
internal sealed record PeerStats(
    string PeerId,
    string? ConnectionState,
    string? IceConnectionState,
    long? FramesDecoded,
    long? AudioPacketsReceived,
    string? LocalCandidateType,
    string? RemoteCandidateType,
    string? RelayProtocol,
    long? IceRestarts)
{
    public bool IsConnected => ConnectionState == "connected";

    /// <summary>Connected and at least one remote video frame decoded.</summary>
    public bool HasVideo => IsConnected && FramesDecoded > 0;

    public bool HasAudio => IsConnected && AudioPacketsReceived > 0;
}
