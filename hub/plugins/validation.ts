import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type BuildValidator = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;
type Compile = (route: AjvCompiler.RouteDefinition) => unknown;

const pool = AjvCompiler();

/**
 * Ajv per request part: a URL and headers carry only text, so querystring, params and headers are coerced to
 * the schema's types (`?limit=20` is a number); a JSON body already has types, so it is taken as sent
 * (`{"name": false}` is not the name "false", `""` is not null).
 */
export const buildValidator = ((externalSchemas: Parameters<AjvCompiler.BuildCompilerFromPool>[0], options?: { customOptions?: AjvCompiler.Options }) => {
  const customOptions = { removeAdditional: false, useDefaults: true, ...options?.customOptions };
  const typed = pool(externalSchemas, { ...options, customOptions: { ...customOptions, coerceTypes: false } }) as unknown as Compile;
  const coercing = pool(externalSchemas, { ...options, customOptions: { ...customOptions, coerceTypes: 'array' } }) as unknown as Compile;
  return (route: AjvCompiler.RouteDefinition) => (route.httpPart === 'body' ? typed(route) : coercing(route));
}) as unknown as BuildValidator;
