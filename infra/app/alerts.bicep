// The dead-man rule: Azure Monitor, not pullwatch, notices when pullwatch stops working (the app
// stopped, lost its trigger, or fails every tick: then it cannot say so itself). A log search
// alert on the app's Application Insights, evaluated every 5 minutes over the last 30, fires when
// no tick succeeded in that time or the last 3 ticks failed, and emails the action group.
// Deployed only when main.bicep's alertEmail is given.

@description('Name prefix of the alert rule and the action group.')
param name string

@description('Azure region of the alert rule (the action group is global).')
param location string

@description('Tags applied to both resources.')
param tags object = {}

@description('Resource id of the Application Insights component that receives the app\'s telemetry.')
param applicationInsightsId string

@description('Where the alert is sent.')
param alertEmail string

@description('Name of the timer function (function_app.py): its invocations are the requests counted.')
param functionName string = 'pullwatch_tick'

// Every invocation of the timer function is one row of `requests` (excluded from sampling in
// host.json). `success` is a string in the component's schema and a bool in the workspace's
// AppRequests: tostring() reads both. The rule's window (PT30M) bounds the rows.
var deadManQueryTemplate = '''
// pullwatch dead-man rule: no successful tick in the window, or the last 3 ticks failed
let ticks = requests
    | where operation_Name == "{function}";
let succeeded = toscalar(ticks | where tostring(success) =~ "true" | count);
let lastThreeFailed = toscalar(ticks
    | top 3 by timestamp desc
    | summarize countif(tostring(success) !~ "true"));
print succeeded = succeeded, lastThreeFailed = lastThreeFailed
| extend problem = case(
    succeeded == 0, "no successful pullwatch tick in 30 minutes",
    lastThreeFailed == 3, "the last 3 pullwatch ticks failed",
    "")
| where problem != ""
'''
var deadManQuery = replace(deadManQueryTemplate, '{function}', functionName)

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${name}'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'pullwatch'
    enabled: true
    emailReceivers: [
      {
        name: 'pullwatch-owner'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource deadMan 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${name}-dead-man'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'pullwatch is not working'
    description: 'No successful pullwatch tick in 30 minutes, or its last 3 ticks failed. See the function\'s invocations and the pullwatch.tick records in Application Insights.'
    severity: 1
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT30M'
    criteria: {
      allOf: [
        {
          query: deadManQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'problem'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

output alertRuleId string = deadMan.id
output actionGroupId string = actionGroup.id
