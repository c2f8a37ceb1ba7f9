using System.Globalization;

namespace Parley.Bench.TurnLoad;

/// <summary>CPU time and memory of a process, and the machine's CPU use, from Linux /proc.</summary>
internal static class ProcStats
{
    // USER_HZ: /proc reports clock ticks of 1/100 s on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100.0;

    /// <summary>utime + stime of <paramref name="pid"/> (all its threads) in seconds; null if it cannot be read.</summary>
    public static double? TryReadCpuSeconds(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the ")" closing comm: state is field 3, utime field 14, stime field 15.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>VmRSS and VmHWM (peak) of <paramref name="pid"/> in KiB; null if they cannot be read.</summary>
    public static (long RssKib, long PeakRssKib)? TryReadMemory(int pid)
    {
        try
        {
            long rss = 0, peak = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKib(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = ParseKib(line);
                }
            }

            return (rss, peak);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Busy and total jiffies of all CPUs together (the first line of /proc/stat).</summary>
    public static (long Busy, long Total) ReadMachineCpu()
    {
        string line = File.ReadLines("/proc/stat").First();
        long total = 0, idle = 0;
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 1; i < fields.Length && i <= 8; i++)
        {
            long value = long.Parse(fields[i], CultureInfo.InvariantCulture);
            total += value;
            if (i is 4 or 5)
            {
                idle += value; // idle and iowait
            }
        }

        return (total - idle, total);
    }

    /// <summary>
    /// Datagrams the kernel dropped because a socket's receive buffer was full, per socket inode, from /proc/net/udp
    /// (this network namespace only), with whether the socket is bound to one of <paramref name="toolPorts"/>.
    /// </summary>
    public static Dictionary<long, (bool Tool, long Drops)> ReadUdpDrops(IReadOnlySet<int> toolPorts)
    {
        Dictionary<long, (bool Tool, long Drops)> sockets = [];
        foreach (string line in File.ReadLines("/proc/net/udp").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 13)
            {
                continue;
            }

            int port = int.Parse(fields[1].AsSpan(fields[1].IndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long inode = long.Parse(fields[9], CultureInfo.InvariantCulture);
            sockets[inode] = (toolPorts.Contains(port), long.Parse(fields[^1], CultureInfo.InvariantCulture));
        }

        return sockets;
    }

    /// <summary>Drops between two <see cref="ReadUdpDrops"/> samples, for the tool's sockets and all others (the server's).</summary>
    public static (long Tool, long Others) UdpDropsBetween(Dictionary<long, (bool Tool, long Drops)> before,
        Dictionary<long, (bool Tool, long Drops)> after)
    {
        long tool = 0, others = 0;
        foreach ((long inode, (bool isTool, long drops)) in after)
        {
            long delta = drops - (before.TryGetValue(inode, out (bool Tool, long Drops) earlier) ? earlier.Drops : 0);
            if (isTool)
            {
                tool += delta;
            }
            else
            {
                others += delta;
            }
        }

        return (tool, others);
    }

    /// <summary>The one-minute load average.</summary>
    public static double ReadLoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static long ParseKib(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
}
