namespace Parley.Signaling.Tests;

public sealed class OptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Assert.True(new SignalingOptionsValidator().Validate(null, new SignalingOptions()).Succeeded);
    }

    [Fact]
    public void Every_bad_value_is_reported_at_once_with_how_to_fix_it()
    {
        var options = new SignalingOptions
        {
            RoomCapacity = 9,
            HeartbeatInterval = TimeSpan.FromSeconds(90),
            HeartbeatTimeout = TimeSpan.FromSeconds(10),
            MaxMessageBytes = 10,
            ResumeKey = "short",
            IceServers = [new IceServerOptions { Urls = ["http://x"] }, new IceServerOptions { Urls = ["turn:t.example:3478"] }],
        };
        options.RoomCapacities["big"] = 20;

        var result = new SignalingOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("RoomCapacity is 9", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("RoomCapacities:big", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("HeartbeatInterval", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("HeartbeatTimeout", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MaxMessageBytes", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("ResumeKey", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'http://x'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("no SharedSecret or Username/Credential", StringComparison.Ordinal));
    }
}
