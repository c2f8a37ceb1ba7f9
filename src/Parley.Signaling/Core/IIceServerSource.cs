namespace Parley.Signaling;

/// <summary>
/// Contributes ICE servers besides the configured ones, asked afresh for every list handed out (the embedded TURN
/// server registers one once its ports are bound). A URL may contain <c>{host}</c>: see <see cref="IceServerProvider"/>.
/// </summary>
public interface IIceServerSource
{
    IEnumerable<IceServerOptions> GetIceServers();
}
