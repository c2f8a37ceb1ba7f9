using Parley.Server;

var app = ParleyApp.Build(args);
app.Run();
