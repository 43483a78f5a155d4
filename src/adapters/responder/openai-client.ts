// Builds the OpenAI SDK client: Azure OpenAI (key, or Entra ID through @azure/identity) when
// AZURE_OPENAI_ENDPOINT is set, else OpenAI (OPENAI_API_KEY, optional OPENAI_BASE_URL).
// Called from the composition root only.
import OpenAI, { AzureOpenAI } from 'openai';
import { DefaultAzureCredential, getBearerTokenProvider } from '@azure/identity';
import type { Config } from '../../config.js';

export interface OpenAIClientHandle {
  readonly client: OpenAI;
  /** Model (OpenAI) or deployment (Azure OpenAI) to request. */
  readonly model: string;
  readonly kind: 'openai' | 'azure';
}

export function createOpenAIClient(cfg: Config['responder']): OpenAIClientHandle {
  const o = cfg.openai;
  if (o.azureEndpoint) {
    const deployment = o.azureDeployment ?? o.model;
    const auth = o.azureApiKey
      ? { apiKey: o.azureApiKey }
      : { azureADTokenProvider: getBearerTokenProvider(new DefaultAzureCredential(), 'https://cognitiveservices.azure.com/.default') };
    const client = new AzureOpenAI({ endpoint: o.azureEndpoint, deployment, apiVersion: o.azureApiVersion, timeout: cfg.timeoutMs, maxRetries: 0, ...auth });
    return { client, model: deployment, kind: 'azure' };
  }
  const client = new OpenAI({ apiKey: o.apiKey, ...(o.baseUrl ? { baseURL: o.baseUrl } : {}), timeout: cfg.timeoutMs, maxRetries: 0 });
  return { client, model: o.model, kind: 'openai' };
}
