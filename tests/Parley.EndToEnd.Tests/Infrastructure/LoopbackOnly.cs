using System.Net.NetworkInformation;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// Browser runs must happen in a network namespace with only loopback: with another interface up, Chromium
/// uses it for ICE and makes background DNS lookups, so results would depend on the machine.
/// </summary>
internal static class LoopbackOnly
{
    public const string HowToRun = "unshare --net -- sh -c 'ip link set lo up && exec dotnet test --no-build ...'";

    /// <summary>Throws, saying how to run, when any non-loopback interface is up.</summary>
    public static void Ensure()
    {
        var others = NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.NetworkInterfaceType != NetworkInterfaceType.Loopback && nic.OperationalStatus == OperationalStatus.Up)
            .Select(nic => nic.Name)
            .ToArray();
        if (others.Length > 0)
        {
            throw new InvalidOperationException(
                $"Network interfaces other than loopback are up ({string.Join(", ", others)}). Build outside, then run inside a "
                + $"loopback-only network namespace: {HowToRun}");
        }
    }
}
