// Event Grid system topic on the ACS resource and the IncomingCall subscription that delivers to the
// worker. Creating a WebHook subscription makes Event Grid send a SubscriptionValidation event to the
// endpoint at deploy time; POST /api/incoming-call answers it, so the app must be running and ready
// before this module deploys (main.bicep orders it after the container app).

@description('Name of the system topic.')
param systemTopicName string

@description('Resource id of the Communication Services resource.')
param acsId string

@description('Name of the event subscription.')
param subscriptionName string = 'incoming-call'

@description('Webhook URL: https://<container app fqdn>/api/incoming-call')
@secure()
param endpointUrl string

@description('Only deliver calls to these ACS phone numbers (E.164, e.g. +14255550123). Empty: every number of the resource.')
param toPhoneNumbers array = []

@description('Delivery attempts before an IncomingCall is dropped. Ringing calls are short-lived; keep it low.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 3

@description('Event time to live in minutes (1 is the minimum; an unanswered call is gone by then anyway).')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1

@description('Tags applied to every resource.')
param tags object = {}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  location: 'global'
  tags: tags
  properties: {
    source: acsId
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

var numberFilter = empty(toPhoneNumbers) ? [] : [
  {
    operatorType: 'StringIn'
    key: 'data.to.PhoneNumber.Value'
    values: toPhoneNumbers
  }
]

resource incomingCall 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: subscriptionName
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: endpointUrl
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.IncomingCall'
      ]
      advancedFilters: numberFilter
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
  }
}

output systemTopicId string = systemTopic.id
output subscriptionId string = incomingCall.id
