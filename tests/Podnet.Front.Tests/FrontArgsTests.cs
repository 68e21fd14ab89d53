using Podnet.Front;

namespace Podnet.Front.Tests;

/// <summary>Which command lines the front answers itself and how it reads them; everything else goes to the full CLI (null).</summary>
public class FrontArgsTests
{
    [Fact]
    public void Version_flag_and_verb_are_answered()
    {
        Assert.Equal(new VersionRequest(Bare: true), FrontArgs.Parse(["--version"]));
        Assert.Equal(new VersionRequest(Bare: false), FrontArgs.Parse(["version"]));
        Assert.Null(FrontArgs.Parse(["--version", "x"]));
        Assert.Null(FrontArgs.Parse(["version", "--help"]));
    }

    [Fact]
    public void Get_reads_kind_name_and_options_in_any_order()
    {
        var get = Assert.IsType<GetArgs>(FrontArgs.Parse(["get", "-n", "kube-system", "pods", "web-1", "-o", "yaml", "--lab", "l1"]));
        Assert.Equal(new GetArgs("pods", "web-1", "kube-system", false, "yaml", null, null, "l1"), get);
        var all = Assert.IsType<GetArgs>(FrontArgs.Parse(["get", "svc", "-A", "--output=wide", "-l", "app=web", "--kubeconfig", "/tmp/k"]));
        Assert.Equal(new GetArgs("svc", null, "default", true, "wide", "app=web", "/tmp/k", null), all);
    }

    [Theory]
    [InlineData("get")]                                  // no KIND: the full CLI's usage error
    [InlineData("get", "pods", "a", "b")]                // too many arguments
    [InlineData("get", "pods", "-w")]                    // a watch
    [InlineData("get", "pods", "--watch")]
    [InlineData("get", "pods", "-o", "custom-columns=N:.metadata.name")] // an output System.CommandLine refuses
    [InlineData("get", "pods", "-o")]                    // a missing value
    [InlineData("get", "pods", "-n", "a", "--namespace", "b")] // twice, under its alias
    [InlineData("get", "pods", "-A", "false")]           // a bool option's value
    [InlineData("get", "pods", "-An", "x")]              // bundled options
    [InlineData("get", "pods", "--no-such-flag")]
    [InlineData("get", "pods", "-h")]
    [InlineData("get", "@args.rsp")]                     // a response file
    [InlineData("get", "pods", "--", "x")]
    [InlineData("get", "pods", "-n", "-o")]              // a value that reads as an option
    [InlineData("get", "pods", "--namespace=")]
    [InlineData("lab", "up")]
    [InlineData("agent", "--node", "n1")]
    [InlineData("delete", "pod", "x")]
    [InlineData("Get", "pods")]
    public void Anything_not_certain_goes_to_the_full_cli(params string[] args) => Assert.Null(FrontArgs.Parse(args));

    [Fact]
    public void Apply_needs_a_file()
    {
        Assert.Equal(new ApplyArgs("web.yaml", "team", null, null), FrontArgs.Parse(["apply", "-f", "web.yaml", "-n", "team"]));
        Assert.Equal(new ApplyArgs("-", "default", null, "l1"), FrontArgs.Parse(["apply", "--filename", "-", "--lab", "l1"]));
        Assert.Null(FrontArgs.Parse(["apply"]));
        Assert.Null(FrontArgs.Parse(["apply", "-f", "a.yaml", "extra"]));
        Assert.Null(FrontArgs.Parse(["apply", "-f", "a.yaml", "--server-side"]));
    }

    [Fact]
    public void Exec_takes_the_words_after_dash_dash_as_the_command()
    {
        var exec = Assert.IsType<ExecArgs>(FrontArgs.Parse(["exec", "-n", "t", "web", "-c", "app", "--", "sh", "-c", "exit 3"]));
        Assert.Equal(("web", "t", "app", false, (string?)null), (exec.Pod, exec.Namespace, exec.Container, exec.Outside, exec.Node));
        Assert.Equal(["sh", "-c", "exit 3"], exec.Command);
        var outside = Assert.IsType<ExecArgs>(FrontArgs.Parse(["exec", "--outside", "--", "ip", "addr"]));
        Assert.True(outside.Outside);
        Assert.Null(outside.Pod);
        Assert.Equal(["ip", "addr"], outside.Command);
        Assert.Equal("n2", Assert.IsType<ExecArgs>(FrontArgs.Parse(["exec", "--node", "n2", "--", "true"])).Node);
    }

    [Theory]
    [InlineData("exec", "web")]                         // no command: the full CLI's message
    [InlineData("exec", "web", "--")]
    [InlineData("exec", "--", "true")]                  // no POD
    [InlineData("exec", "--outside", "web", "--", "true")] // a POD word with --outside reads as the command
    [InlineData("exec", "web", "-i", "--", "true")]
    [InlineData("exec", "web", "true")]                 // no --
    public void Exec_forms_left_to_the_full_cli(params string[] args) => Assert.Null(FrontArgs.Parse(args));

    [Fact]
    public void Lab_status_defaults_to_the_default_lab()
    {
        Assert.Equal(new LabStatusArgs("podnet", null), FrontArgs.Parse(["lab", "status"]));
        Assert.Equal(new LabStatusArgs("l1", "json"), FrontArgs.Parse(["lab", "status", "--name", "l1", "-o", "json"]));
        Assert.Null(FrontArgs.Parse(["lab", "status", "l1"]));
        Assert.Null(FrontArgs.Parse(["lab", "status", "--verbose"]));
    }
}
