using Broker.Hosting;

return await BrokerHost.RunAsync(args);
